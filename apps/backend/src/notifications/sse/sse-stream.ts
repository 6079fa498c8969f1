import type { NotificationView, SessionEndCode } from '@notify-gateway/contracts';
import type { Response } from 'express';
import type { AuthenticatedUser } from '../../auth/authenticated-user.js';
import type { DeliverableEvent, EventPayload } from '../notification-fanout.js';
import { HEARTBEAT, OPENING, SSE_HEADERS, sseEvent } from './sse-wire.js';

/** Longest timer Node accepts; longer-lived tokens are cut at the next reconnect anyway. */
const MAX_TIMER_MS = 2_147_483_647;
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
  chunk: string;
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
  private peak = 0;
  private heartbeat?: NodeJS.Timeout;
  private expiry?: NodeJS.Timeout;
  private grace?: NodeJS.Timeout;

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
    // Only when idle: queued bytes already keep proxies awake, and must not grow.
    this.heartbeat = setInterval(() => {
      if (this.res.writableLength === 0) this.write(HEARTBEAT);
    }, this.options.heartbeatMs);
    const untilExpiry = Math.min(Math.max(this.session.user.exp * 1000 - Date.now(), 0), MAX_TIMER_MS);
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

  /** A live event; true when it was written now. */
  send<E extends DeliverableEvent>(event: E, payload: EventPayload<E>): boolean {
    if (!this.writable) return false;
    const chunk = encode(event, payload);
    if (this.live) return this.write(chunk);
    const bytes = Buffer.byteLength(chunk);
    this.pending.push({ event, payload, chunk, bytes });
    this.pendingBytes += bytes;
    const held = this.res.writableLength + this.pendingBytes;
    this.peak = Math.max(this.peak, held);
    if (held > this.options.maxBufferedBytes) this.cut(held);
    return false;
  }

  /** A missed notification, written at the client's pace; false once the stream is gone. */
  async replay(view: NotificationView): Promise<boolean> {
    const chunk = encode('notification:new', view);
    if (!(await this.roomFor(Buffer.byteLength(chunk)))) return false;
    return this.write(chunk);
  }

  /**
   * Flushes what arrived live during the replay, skipping notifications at or below
   * `replayedUpTo` (already sent), then lets live events through. Returns how many
   * notifications it wrote.
   */
  async goLive(replayedUpTo: bigint): Promise<number> {
    let written = 0;
    while (this.pending.length > 0) {
      const next = this.pending.shift() as Pending;
      this.pendingBytes -= next.bytes;
      if (next.event === 'notification:new' && BigInt((next.payload as NotificationView).cursor) <= replayedUpTo) continue;
      if (!(await this.roomFor(next.bytes)) || !this.write(next.chunk)) return written;
      if (next.event === 'notification:new') written += 1;
    }
    // Synchronous from the empty check to here: nothing can slip in between.
    this.live = true;
    return written;
  }

  /** Tells the client why, then ends the response. */
  end(code: SessionEndCode): void {
    if (!this.writable) return;
    this.write(encode('notification:session-expiring', { code }));
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

  private write(chunk: string): boolean {
    if (!this.writable) return false;
    const queued = this.res.writableLength;
    const bytes = Buffer.byteLength(chunk);
    // An empty queue always takes one event, so a bound smaller than an event still delivers.
    if (queued > 0 && queued + bytes + this.pendingBytes > this.options.maxBufferedBytes) {
      this.cut(queued + bytes + this.pendingBytes);
      return false;
    }
    this.res.write(chunk);
    this.peak = Math.max(this.peak, this.res.writableLength + this.pendingBytes);
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
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      const timer = setTimeout(done, ROOM_POLL_MS);
      this.res.once('drain', done);
      this.res.once('close', done);
    });
  }

  private handleClose(): void {
    if (this.finished) return;
    this.finished = true;
    this.writable = false;
    this.stopTimers();
    clearTimeout(this.grace);
    this.pending.length = 0;
    this.pendingBytes = 0;
    this.observer.closed(this);
  }

  private stopTimers(): void {
    clearInterval(this.heartbeat);
    clearTimeout(this.expiry);
  }
}

function encode(event: DeliverableEvent | 'notification:session-expiring', payload: unknown): string {
  // Only notification:new advances the client's Last-Event-ID.
  const id = event === 'notification:new' ? (payload as NotificationView).cursor : undefined;
  return sseEvent(event, payload, id);
}
