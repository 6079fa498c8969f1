/** A cursor is the decimal string of a 64-bit sequence number; compare as BigInt, never as text. */
export function parseCursor(cursor: string): bigint | undefined {
  return /^\d{1,19}$/.test(cursor) ? BigInt(cursor) : undefined;
}

/**
 * Where the next catch-up starts: the highest cursor below which nothing can be missing.
 *
 * Only notifications actually received move it. While the client is behind (before a catch-up
 * completes), a live notification can be ahead of a gap, so its cursor waits in `pending` and
 * counts only once a catch-up has completed; sync pages are contiguous and count at once.
 */
export class CursorTracker {
  private watermark: bigint | undefined;
  private pending: bigint | undefined;
  private caughtUp = false;

  constructor(initial?: string) {
    if (initial === undefined) return;
    const parsed = parseCursor(initial);
    if (parsed === undefined) throw new RangeError('cursor must be a decimal string');
    this.watermark = parsed;
  }

  /** The cursor to sync after; undefined means from the beginning. */
  get value(): string | undefined {
    return this.watermark?.toString();
  }

  get isCaughtUp(): boolean {
    return this.caughtUp;
  }

  /** A notification delivered live. */
  live(cursor: string): void {
    const parsed = parseCursor(cursor);
    if (parsed === undefined) return;
    if (this.caughtUp) this.watermark = max(this.watermark, parsed);
    else this.pending = max(this.pending, parsed);
  }

  /** A notification from a sync page. */
  synced(cursor: string): void {
    const parsed = parseCursor(cursor);
    if (parsed !== undefined) this.watermark = max(this.watermark, parsed);
  }

  /** Disconnected, or a catch-up started: live cursors may be ahead of a gap from now on. */
  behind(): void {
    this.caughtUp = false;
  }

  /** A catch-up completed: everything up to now has been received. */
  completed(): void {
    this.watermark = max(this.watermark, this.pending);
    this.pending = undefined;
    this.caughtUp = true;
  }
}

function max(a: bigint | undefined, b: bigint | undefined): bigint | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a > b ? a : b;
}
