import type { NotificationView, StreamPosition } from '@notify-gateway/contracts';

/** A cursor or an offset is the decimal string of a 64-bit number; compare as BigInt, never as text. */
export function parseCounter(value: string): bigint | undefined {
  return /^(0|[1-9]\d{0,18})$/.test(value) ? BigInt(value) : undefined;
}

/** What to do with a live notification. */
export type LiveVerdict =
  /** The next offset of its stream (or of a stream not tracked yet): hand it to the application. */
  | 'next'
  /** At or below the stream's position: already handed. */
  | 'duplicate'
  /** Past a gap: held until the gap is synced. */
  | 'ahead'
  /** Under another epoch than the one held: the stream's position is void. */
  | 'epoch-changed';

interface Mark {
  epoch: string;
  offset: bigint;
}

const KIND: Record<string, string> = { user: 'u', tenant: 't', global: 'g' };
const POSITION_ENTRY = /^([utg])\.([A-Za-z0-9]{8,16})\.(0|[1-9]\d{0,18})$/;
/** More held past a gap than this, and the client forgets them: the gap's sync reads them again. */
const MAX_AHEAD = 1000;

/**
 * Per-stream positions (docs/DELIVERY.md): the last offset handed to the application in each
 * stream, under the stream's epoch. Offsets are dense, so a live notification either follows on
 * (last + 1), repeats (≤ last), or reveals a gap (> last + 1): then it waits in `ahead` until a
 * sync of that stream fills the gap. Nothing moves a position but a notification handed over.
 */
export class StreamPositions {
  private readonly marks = new Map<string, Mark>();
  private readonly ahead = new Map<string, Map<string, NotificationView>>();
  /** Streams whose position comes only from an encoded string: full names learnt on first sync. */
  private readonly pendingKinds = new Map<string, Mark>();

  /** `position`: an encoded position to resume from (as `lastPosition` gave it). */
  constructor(position?: string) {
    if (position === undefined) return;
    const entries = position.split('_');
    if (position.length === 0 || entries.length > 3) throw new RangeError('position must be an encoded position');
    for (const entry of entries) {
      const match = POSITION_ENTRY.exec(entry);
      if (!match || this.pendingKinds.has(match[1] as string)) throw new RangeError('position must be an encoded position');
      this.pendingKinds.set(match[1] as string, { epoch: match[2] as string, offset: BigInt(match[3] as string) });
    }
  }

  /** True once the client holds a position (it can sync by position rather than from scratch). */
  get known(): boolean {
    return this.marks.size > 0 || this.pendingKinds.size > 0;
  }

  /** The encoded position, for `notification:sync`, `?position=`, storage. */
  encoded(only?: string): string | undefined {
    const entries: string[] = [];
    for (const [kind, mark] of this.pendingKinds) if (!only) entries.push(`${kind}.${mark.epoch}.${mark.offset.toString()}`);
    for (const [stream, mark] of this.marks) {
      if (only && stream !== only) continue;
      const kind = KIND[stream.split(':')[0] as string];
      if (kind) entries.push(`${kind}.${mark.epoch}.${mark.offset.toString()}`);
    }
    const order = (entry: string): number => 'utg'.indexOf(entry[0] as string);
    entries.sort((a, b) => order(a) - order(b));
    return entries.length > 0 ? entries.join('_') : undefined;
  }

  list(): StreamPosition[] {
    return [...this.marks].map(([stream, mark]) => ({ stream, epoch: mark.epoch, offset: mark.offset.toString() }));
  }

  /**
   * The server's positions after a sync page. A position never moves back within an epoch (an
   * older answer may arrive after a newer one); a reset is `resetTo`'s business.
   */
  learn(streams: StreamPosition[]): void {
    for (const position of streams) {
      const offset = parseCounter(position.offset);
      if (offset === undefined) continue;
      const mark = this.marks.get(position.stream);
      if (!mark || mark.epoch !== position.epoch || offset > mark.offset) this.set(position.stream, { epoch: position.epoch, offset });
    }
  }

  /**
   * A stream's position was void: start it afresh from the server's position. `keepHeld`: what
   * arrived live meanwhile is kept for `release` (it may follow on from the new position).
   */
  resetTo(position: StreamPosition, options: { keepHeld?: boolean } = {}): void {
    const offset = parseCounter(position.offset);
    if (offset === undefined) return;
    this.set(position.stream, { epoch: position.epoch, offset });
    if (!options.keepHeld) this.ahead.delete(position.stream);
  }

  /** Stops tracking `stream` for now: its live notifications are held until it has a position again. */
  untrack(stream: string): void {
    this.marks.delete(stream);
  }

  /** True when the client holds a position in `stream`. */
  tracks(stream: string): boolean {
    return this.marks.has(stream);
  }

  /** The lowest offset held for `stream` under `epoch`, if any. */
  lowestHeld(stream: string, epoch: string): bigint | undefined {
    let lowest: bigint | undefined;
    for (const view of this.ahead.get(stream)?.values() ?? []) {
      const offset = BigInt(view.offset);
      if (view.epoch === epoch && (lowest === undefined || offset < lowest)) lowest = offset;
    }
    return lowest;
  }

  /** Drops what is held for a stream the reader does not read (any more). */
  forget(stream: string): void {
    this.ahead.delete(stream);
  }

  /** Judges a live notification; 'ahead' ones are kept for `release`. */
  live(view: NotificationView): LiveVerdict {
    const offset = parseCounter(view.offset);
    if (offset === undefined) return 'duplicate';
    const mark = this.marks.get(view.stream);
    if (!mark) {
      // Not tracked yet (the catch-up that names it is still running): hold it.
      this.hold(view);
      return 'ahead';
    }
    if (view.epoch !== mark.epoch) return 'epoch-changed';
    if (offset <= mark.offset) return 'duplicate';
    if (offset === mark.offset + 1n) return 'next';
    this.hold(view);
    return 'ahead';
  }

  /** A notification from a sync page (contiguous from the position asked for): true when it is new. */
  synced(view: NotificationView): boolean {
    const offset = parseCounter(view.offset);
    if (offset === undefined) return false;
    const mark = this.marks.get(view.stream);
    return !mark || mark.epoch !== view.epoch || offset > mark.offset;
  }

  /** Moves the stream's position to a notification handed to the application. */
  handed(view: NotificationView): void {
    const offset = parseCounter(view.offset);
    if (offset !== undefined) this.set(view.stream, { epoch: view.epoch, offset });
  }

  /** Held notifications that now follow on, in offset order (the caller hands them over). */
  release(stream: string): NotificationView[] {
    const held = this.ahead.get(stream);
    const mark = this.marks.get(stream);
    if (!held || !mark) return [];
    const out: NotificationView[] = [];
    let next = mark.offset + 1n;
    for (const [offset, view] of [...held]) {
      const value = BigInt(offset);
      if (value < next || view.epoch !== mark.epoch) held.delete(offset);
    }
    while (held.has(next.toString())) {
      const view = held.get(next.toString()) as NotificationView;
      held.delete(next.toString());
      out.push(view);
      next += 1n;
    }
    if (held.size === 0) this.ahead.delete(stream);
    return out;
  }

  /** Streams with notifications held past a gap. */
  gaps(): string[] {
    return [...this.ahead.keys()].filter((stream) => this.marks.has(stream));
  }

  /** Streams held for but not tracked (should be named by the next sync). */
  untracked(): string[] {
    return [...this.ahead.keys()].filter((stream) => !this.marks.has(stream));
  }

  /**
   * A reader reads one stream of each kind: after a tenant move the server names the new tenant's
   * stream `t` too, so the old one is dropped here, or the position would name `t` twice (refused).
   */
  private set(stream: string, mark: Mark): void {
    const kind = KIND[stream.split(':')[0] as string];
    if (kind) {
      this.pendingKinds.delete(kind);
      for (const other of this.marks.keys()) {
        if (other !== stream && KIND[other.split(':')[0] as string] === kind) {
          this.marks.delete(other);
          this.ahead.delete(other);
        }
      }
    }
    this.marks.set(stream, mark);
  }

  private hold(view: NotificationView): void {
    let held = this.ahead.get(view.stream);
    if (!held) {
      held = new Map();
      this.ahead.set(view.stream, held);
    }
    held.set(view.offset, view);
    if (held.size > MAX_AHEAD) held.clear();
  }
}
