import { timerDelayUntil, type NotificationView, type SessionEndCode, type StreamReset } from '@notify-gateway/contracts';
import type { Response } from 'express';
import type { Socket } from 'node:net';
import { OutgoingMessage } from 'node:http';
import type { AuthenticatedUser } from '../../auth/authenticated-user.js';
import type { DeliverableEvent, EventPayload } from '../notification-fanout.js';
import type { PositionedPage } from '../notification-reader.js';
import { encodePositionIn, streamsOf, type Positions, type StreamKind } from '../streams/stream-position.js';
import { encodeEvent, HEARTBEAT, httpChunk, OPENING, SSE_HEADERS, sseEvent, sseFrame, sseFrameBytes, type EncodedEvent } from './sse-wire.js';

/** Reads one stream after the given position (NotificationService.readAfter). */
export type StreamFiller = (positions: Positions) => Promise<PositionedPage>;
/** The current head of every stream the session's user reads (NotificationService.currentPositions). */
export type HeadReader = () => Promise<Positions>;
/** Rounds of reading a gap before the stream gives up and drops (the client resumes by id). */
const MAX_FILL_ROUNDS = 20;
/**
 * How long a gap may close by itself (the missing event is usually a few ms behind, from another
 * instance) before it is read from the database.
 */
export const GAP_GRACE_MS = 100;

/** A stream told to end that does not flush its last bytes is destroyed after this. */
const END_GRACE_MS = 2000;
/** While replaying, how often to look again for room when no 'drain' is coming. */
const ROOM_POLL_MS = 25;

export interface StreamSession {
  user: AuthenticatedUser;
  ip: string;
  origin?: string;
  rooms: string[];
}

export interface SseStreamOptions {
  maxBufferedBytes: number;
  heartbeatMs: number;
}

export interface SseStreamObserver {
  /** The client stopped reading: the stream is being destroyed. */
  slowConsumer(stream: SseStream, wouldQueueBytes: number): void;
  tokenExpired(stream: SseStream): void;
  /** Exactly once, however the stream ended. */
  closed(stream: SseStream): void;
}

interface Pending {
  event: DeliverableEvent;
  payload: EventPayload<DeliverableEvent>;
  encoded: EncodedEvent;
  bytes: number;
}

/**
 * One open text/event-stream response. Writes never queue more than `maxBufferedBytes` (a
 * client that stops reading is cut off); while catching up, live events wait in a bounded
 * buffer so the replay and the live feed meet without a gap or a duplicate.
 */
export class SseStream {
  readonly openedAt = Date.now();
  private live = true;
  private writable = true;
  private finished = false;
  private readonly pending: Pending[] = [];
  private pendingBytes = 0;
  /** Where the client stands per stream: the id of each notification:new (docs/DELIVERY.md). */
  private positions: Positions = new Map();
  /** streamsOf(the session's user), kept until a reassignment replaces the user. */
  private readerStreams?: { user: AuthenticatedUser; streams: Map<StreamKind, string> };
  private filler?: StreamFiller;
  private headReader?: HeadReader;
  /** Live notifications past a gap, waiting for the gap to be read from the database. */
  private readonly ahead: Pending[] = [];
  private readonly filling = new Set<string>();
  private readonly gapTimers = new Map<string, NodeJS.Timeout>();
  private peak = 0;
  private heartbeat?: NodeJS.Timeout;
  private expiry?: NodeJS.Timeout;
  private grace?: NodeJS.Timeout;
  /** Set once the stream writes its own chunks on the response's socket (see open()). */
  private socket?: Socket;

  constructor(
    readonly id: string,
    readonly session: StreamSession,
    private readonly res: Response,
    private readonly options: SseStreamOptions,
    private readonly observer: SseStreamObserver,
  ) {}

  /** Sends the headers; `catchingUp` holds live events back until goLive(). */
  open(catchingUp: boolean): void {
    this.live = !catchingUp;
    this.res.on('close', () => this.handleClose());
    this.res.on('error', () => undefined);
    this.res.socket?.setNoDelay(true);
    this.res.writeHead(200, SSE_HEADERS);
    this.write(OPENING);
    // On an Express response, res.write costs several µs per call (the fan-out's largest cost per
    // stream; docs/BENCHMARKS.md, section 5). Once the headers are on the socket, the response owns
    // it (nothing pipelined ahead) and is chunked, each frame goes to the socket as the same chunk
    // res.write would make; res.end() still writes the last chunk. Otherwise: res.write. Never when
    // something wrapped res.write (a host's compression middleware does): its bytes are not ours to frame.
    const socket = this.res.socket;
    if (socket?.writable && this.res.write === OutgoingMessage.prototype.write && this.res.chunkedEncoding && this.res.writableLength === socket.writableLength) {
      this.socket = socket;
    }
    // Only when idle: queued bytes already keep proxies awake, and must not grow.
    this.heartbeat = setInterval(() => {
      if (this.res.writableLength === 0) this.write(HEARTBEAT);
    }, this.options.heartbeatMs);
    // Tokens living longer than a timer can wait are cut at the next reconnect anyway.
    const untilExpiry = timerDelayUntil(this.session.user.exp * 1000);
    this.expiry = setTimeout(() => {
      this.observer.tokenExpired(this);
      this.end('TOKEN_EXPIRED');
    }, untilExpiry);
  }

  get isOpen(): boolean {
    return this.writable;
  }

  /** Bytes this stream holds: queued for the socket plus held back during catch-up. */
  get bufferedBytes(): number {
    return this.finished ? 0 : this.res.writableLength + this.pendingBytes;
  }

  get peakBufferedBytes(): number {
    return this.peak;
  }

  /** A live event; true when it was written now. `encoded`: the payload serialised once for every stream. */
  send<E extends DeliverableEvent>(event: E, payload: EventPayload<E>, encoded: EncodedEvent = encodeEvent(event, payload)): boolean {
    if (!this.writable) return false;
    if (this.live) return event === 'notification:new' ? this.ordered(payload as NotificationView, encoded) : this.write(sseFrame(encoded), encoded.bytes);
    this.hold(this.pending, event, payload, encoded);
    return false;
  }

  /** Starts tracking positions (before the replay); `filler` reads gaps, `heads` where a stream gained later starts. */
  track(positions: Positions, filler: StreamFiller, heads?: HeadReader): void {
    this.positions = new Map(positions);
    this.filler = filler;
    this.headReader = heads;
  }

  /**
   * The session's role or tenant changed and it is in its new rooms already. A stream it no longer
   * reads is forgotten (nothing held of it is written). A stream it reads now without a position
   * (e.g. the tenant's after a promotion) would be written without ids, so a reconnect would start
   * it at the head and skip what it got meanwhile: it is held while its head is read, and goes on
   * from there (or from before the oldest one held), gaps read from the database as usual.
   */
  reassigned(): void {
    if (!this.filler || !this.headReader || !this.writable) return;
    const readable = new Set(streamsOf(this.session.user).values());
    for (const stream of [...this.positions.keys()]) if (!readable.has(stream)) this.positions.delete(stream);
    this.dropAhead((view) => !readable.has(view.stream));
    const gained = [...readable].filter((stream) => !this.positions.has(stream) && !this.filling.has(stream));
    if (gained.length === 0) return;
    for (const stream of gained) this.filling.add(stream);
    this.headReader().then(
      (heads) => {
        const now = new Set(streamsOf(this.session.user).values());
        for (const stream of gained) {
          this.filling.delete(stream);
          if (!now.has(stream)) {
            this.dropAhead((view) => view.stream === stream);
            continue;
          }
          const held = this.ahead.map((entry) => entry.payload as NotificationView).filter((view) => view.stream === stream);
          // A head read before the stream's first commit finds none: what was held then starts it.
          const epoch = heads.get(stream)?.epoch ?? held[0]?.epoch;
          if (epoch !== undefined && !this.positions.has(stream)) {
            let start = heads.get(stream)?.offset;
            for (const view of held) if (view.epoch === epoch && (start === undefined || BigInt(view.offset) - 1n < start)) start = BigInt(view.offset) - 1n;
            if (start !== undefined) this.positions.set(stream, { epoch, offset: start });
          }
          // Synchronously from filling.delete: no live event of the stream slipped past.
          if (held.length > 0 && this.positions.has(stream)) void this.fill(stream);
        }
      },
      () => this.abort(),
    );
  }

  private dropAhead(drop: (view: NotificationView) => boolean): void {
    const kept = this.ahead.filter((held) => !drop(held.payload as NotificationView));
    for (const held of this.ahead) if (!kept.includes(held)) this.pendingBytes -= held.bytes;
    this.ahead.length = 0;
    this.ahead.push(...kept);
  }

  /** The encoded position the client stands at. */
  get position(): string {
    const { user } = this.session;
    if (this.readerStreams?.user !== user) this.readerStreams = { user, streams: streamsOf(user) };
    return encodePositionIn(this.positions, this.readerStreams.streams);
  }

  /** Positions that were void: the client reloads the latest page from the new position. */
  announceReset(reset: StreamReset[], positions: Positions): void {
    for (const [stream, mark] of positions) this.positions.set(stream, mark);
    this.write(sseEvent('notification:reset', { reset, position: this.position }, this.position));
  }

  /** A missed notification, written at the client's pace; false once the stream is gone. */
  async replay(view: NotificationView): Promise<boolean> {
    const encoded = encodeEvent('notification:new', view);
    if (!(await this.roomFor(encoded.bytes + 128))) return false;
    return this.writeNotification(view, encoded);
  }

  /**
   * Flushes what arrived live during the replay through the same ordering as live events
   * (already replayed: dropped; past a gap: held until the gap is read), then lets live events
   * through. Returns how many notifications it wrote.
   */
  async goLive(): Promise<number> {
    let written = 0;
    while (this.pending.length > 0) {
      const next = this.pending.shift() as Pending;
      this.pendingBytes -= next.bytes;
      if (!(await this.roomFor(next.bytes))) return written;
      if (next.event !== 'notification:new') {
        if (!this.write(sseFrame(next.encoded), next.encoded.bytes)) return written;
      } else if (this.ordered(next.payload as NotificationView, next.encoded)) written += 1;
    }
    // Synchronous from the empty check to here: nothing can slip in between.
    this.live = true;
    return written;
  }

  /**
   * A live notification in per-stream order: the next offset is written, an old one is dropped,
   * one past a gap (or under another epoch) waits while the gap is read from the database. A
   * later offset is only ever emitted after the earlier ones committed, so the gap is there.
   */
  private ordered(view: NotificationView, encoded: EncodedEvent): boolean {
    // Held first: a stream gained by a role change has no position until its head is read.
    if (this.filler && this.filling.has(view.stream)) {
      this.hold(this.ahead, 'notification:new', view, encoded);
      return false;
    }
    const mark = this.positions.get(view.stream);
    if (!mark || !this.filler) return this.write(sseFrame(encoded), encoded.bytes);
    if (view.epoch === mark.epoch) {
      const offset = BigInt(view.offset);
      if (offset <= mark.offset) return false;
      if (offset === mark.offset + 1n) {
        const written = this.writeNotification(view, encoded, offset);
        if (this.ahead.length > 0 && this.releaseAhead(view.stream)) this.clearGapTimer(view.stream);
        return written;
      }
    }
    this.hold(this.ahead, 'notification:new', view, encoded);
    this.scheduleFill(view.stream);
    return false;
  }

  /** Reads the gap unless it closes within GAP_GRACE_MS. */
  private scheduleFill(stream: string): void {
    if (this.gapTimers.has(stream)) return;
    const timer = setTimeout(() => {
      this.gapTimers.delete(stream);
      if (this.writable && this.ahead.some((held) => (held.payload as NotificationView).stream === stream)) void this.fill(stream);
    }, GAP_GRACE_MS);
    timer.unref();
    this.gapTimers.set(stream, timer);
  }

  private clearGapTimer(stream: string): void {
    clearTimeout(this.gapTimers.get(stream));
    this.gapTimers.delete(stream);
  }

  private async fill(stream: string): Promise<void> {
    const filler = this.filler as StreamFiller;
    this.filling.add(stream);
    try {
      for (let round = 0; round < MAX_FILL_ROUNDS && this.writable; round += 1) {
        const mark = this.positions.get(stream);
        if (!mark) return;
        const page = await filler(new Map([[stream, mark]]));
        if (page.reset.length > 0) this.announceReset(page.reset, page.positions);
        for (const view of page.items) if (!(await this.replay(view))) return;
        // From here to the end of the round: synchronous, so no live event slips past.
        if (this.releaseAhead(stream) && !page.hasMore) return;
      }
      // Still a gap after every round: drop the stream; the client resumes from its id.
      if (this.writable) this.abort();
    } catch {
      this.abort();
    } finally {
      this.filling.delete(stream);
    }
  }

  /** Writes the held notifications of `stream` that now follow on; true when none is left. */
  private releaseAhead(stream: string): boolean {
    const mine = this.ahead.filter((held) => (held.payload as NotificationView).stream === stream);
    const others = this.ahead.filter((held) => (held.payload as NotificationView).stream !== stream);
    this.ahead.length = 0;
    this.ahead.push(...others);
    mine.sort((a, b) => compareOffsets(a.payload as NotificationView, b.payload as NotificationView));
    const kept: Pending[] = [];
    for (const held of mine) {
      this.pendingBytes -= held.bytes;
      const view = held.payload as NotificationView;
      const mark = this.positions.get(stream);
      if (!mark || view.epoch !== mark.epoch) continue;
      const offset = BigInt(view.offset);
      if (offset <= mark.offset) continue;
      if (offset === mark.offset + 1n) this.writeNotification(view, held.encoded, offset);
      else kept.push(held);
    }
    for (const held of kept) {
      this.ahead.push(held);
      this.pendingBytes += held.bytes;
    }
    return kept.length === 0;
  }

  /** Only notification:new (and notification:reset) carry an id: the position after them. `offset`: view.offset parsed. */
  private writeNotification(view: NotificationView, encoded: EncodedEvent, offset?: bigint): boolean {
    const tracked = this.filler !== undefined && this.positions.has(view.stream);
    if (tracked) this.positions.set(view.stream, { epoch: view.epoch, offset: offset ?? BigInt(view.offset) });
    const id = tracked ? this.position : undefined;
    return this.write(sseFrame(encoded, id), sseFrameBytes(encoded, id));
  }

  private hold(queue: Pending[], event: DeliverableEvent, payload: EventPayload<DeliverableEvent>, encoded: EncodedEvent): void {
    const bytes = encoded.bytes + 128;
    queue.push({ event, payload, encoded, bytes });
    this.pendingBytes += bytes;
    const held = this.res.writableLength + this.pendingBytes;
    this.peak = Math.max(this.peak, held);
    if (held > this.options.maxBufferedBytes) this.cut(held);
  }

  /** Tells the client why, then ends the response. */
  end(code: SessionEndCode): void {
    if (!this.writable) return;
    this.write(sseEvent('notification:session-expiring', { code }));
    if (!this.writable) return;
    this.writable = false;
    this.stopTimers();
    this.res.end();
    this.grace = setTimeout(() => this.res.destroy(), END_GRACE_MS);
    this.grace.unref();
  }

  /** Drops the connection without a word (e.g. the replay failed: the client reconnects). */
  abort(): void {
    this.writable = false;
    this.res.destroy();
  }

  /** `bytes`: the chunk's UTF-8 length when the caller already knows it. */
  private write(chunk: string, bytes = Buffer.byteLength(chunk)): boolean {
    if (!this.writable) return false;
    const socket = this.socket;
    // With no write of its own pending in the response, the response's queue is its socket's.
    const queued = socket ? socket.writableLength : this.res.writableLength;
    // An empty queue always takes one event, so a bound smaller than an event still delivers.
    if (queued > 0 && queued + bytes + this.pendingBytes > this.options.maxBufferedBytes) {
      this.cut(queued + bytes + this.pendingBytes);
      return false;
    }
    corkUntilNextTick(this.res.socket);
    if (socket?.writable && chunk.length > 0) socket.write(httpChunk(chunk));
    else this.res.write(chunk);
    // What this write queued, counted without asking the response again (once per stream per event).
    this.peak = Math.max(this.peak, queued + bytes + this.pendingBytes);
    return true;
  }

  private cut(wouldQueue: number): void {
    if (!this.writable) return;
    this.writable = false;
    this.stopTimers();
    this.observer.slowConsumer(this, wouldQueue);
    this.res.destroy();
  }

  /** Waits until `bytes` fit under the bound (or the queue is empty); false once closed. */
  private async roomFor(bytes: number): Promise<boolean> {
    const fits = (): boolean => {
      const queued = this.res.writableLength;
      return queued === 0 || queued + bytes + this.pendingBytes <= this.options.maxBufferedBytes;
    };
    while (this.writable && !fits()) await this.drainOrPoll();
    return this.writable;
  }

  private drainOrPoll(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.drains.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      const timer = setTimeout(done, ROOM_POLL_MS);
      // Writing to the socket directly, the response never sees a full queue, so never emits 'drain'.
      this.drains.once('drain', done);
      this.res.once('close', done);
    });
  }

  private get drains(): NodeJS.EventEmitter {
    return this.socket ?? this.res;
  }

  private handleClose(): void {
    if (this.finished) return;
    this.finished = true;
    this.writable = false;
    this.stopTimers();
    clearTimeout(this.grace);
    this.pending.length = 0;
    this.ahead.length = 0;
    this.pendingBytes = 0;
    this.observer.closed(this);
  }

  private stopTimers(): void {
    clearInterval(this.heartbeat);
    clearTimeout(this.expiry);
    for (const timer of this.gapTimers.values()) clearTimeout(timer);
    this.gapTimers.clear();
  }
}

/** Sockets corked by corkUntilNextTick, uncorked together on the next tick. */
let corked: Socket[] = [];

/**
 * Node's response corks its socket on a write and schedules one process.nextTick per response to
 * uncork it; a fan-out to N streams paid N ticks (each an async resource while an
 * AsyncLocalStorage is active). Corked here first, the N sockets share one tick, and the bytes
 * still leave at the same point: after the synchronous loop that wrote them.
 */
function corkUntilNextTick(socket: Socket | null): void {
  if (!socket || socket.writableCorked > 0 || socket.destroyed) return;
  socket.cork();
  if (corked.push(socket) === 1) process.nextTick(uncorkAll);
}

function uncorkAll(): void {
  const sockets = corked;
  corked = [];
  for (const socket of sockets) socket.uncork();
}

function compareOffsets(a: NotificationView, b: NotificationView): number {
  const x = BigInt(a.offset);
  const y = BigInt(b.offset);
  return x < y ? -1 : x > y ? 1 : 0;
}
