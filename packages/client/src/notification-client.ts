import {
  NOTIFICATION_LIMITS,
  NOTIFICATIONS_NAMESPACE,
  type ClientToServerEvents,
  type MarkAllReadAck,
  type MarkReadAck,
  type NotificationView,
  type ServerToClientEvents,
  type SessionEndCode,
  type StreamReset,
  type SyncAck,
  type SyncPayload,
} from '@notify-gateway/contracts';
import { io, type Socket } from 'socket.io-client';
import { Backoff } from './backoff.js';
import { catchUp, type CatchUpResult, type SyncPage } from './catch-up.js';
import { NotificationClientError } from './errors.js';
import { PendingAcks } from './pending-acks.js';
import { RecentIds } from './recent-ids.js';
import { parseCounter, StreamPositions } from './stream-positions.js';
import { connectErrorAction, disconnectAction, drainDelayMs } from './session-policy.js';
import { InBandRefresh } from './token-refresh.js';
import { TypedEmitter, type Listener } from './typed-emitter.js';
import type {
  ClientState,
  NotificationClientEventMap,
  NotificationClientOptions,
  StateChange,
  StopReason,
  TokenRequestReason,
  Transport,
} from './types.js';

type GatewaySocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/**
 * How long a gap in the live feed may close by itself (the missing notification is usually a few
 * ms behind, from another instance) before the client syncs the stream. Saves the event budget.
 */
const GAP_GRACE_MS = 150;

/**
 * The longest a draining server's `reconnectWithinMs` is followed (the server asks for 1–30 s).
 * Apart from the backoff ceiling: the window is the server's admission rate, not a retry delay.
 */
const DRAIN_DELAY_MAX_MS = 30_000;

const DEFAULTS = {
  transports: ['websocket'] as Transport[],
  dedupeSize: 1000,
  ackTimeoutMs: 10_000,
  reconnectDelayMs: 1000,
  // Not 30 s: a draining server spreads its clients itself (reconnectWithinMs), and a client
  // that failed a few attempts in a storm should not then sit out half a minute.
  reconnectDelayMaxMs: 10_000,
  maxAuthFailures: 3,
  refreshMarginMs: 60_000,
};

/**
 * The gateway's socket.io namespace with the behaviour a frontend needs by default: a fresh token
 * on every (re)connect, catch-up from the per-stream positions after each one, gaps in the live
 * feed synced stream by stream, each notification once and in per-stream order.
 */
export class NotificationClient {
  private readonly events = new TypedEmitter<NotificationClientEventMap>();
  private readonly socket: GatewaySocket;
  private readonly seen: RecentIds;
  private readonly positions: StreamPositions;
  /** The old-style cursor to start from, until the first catch-up has turned it into positions. */
  private startCursor: string | undefined;
  private highestCursor: bigint | undefined;
  private readonly gapSyncs = new Set<string>();
  private readonly gapTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly retry: Backoff;
  private readonly acks: PendingAcks;
  private readonly pageSize: number;
  private readonly maxAuthFailures: number;
  private readonly refresh: InBandRefresh;

  private current: StateChange = { state: 'idle' };
  private tokenReason: TokenRequestReason = 'connect';
  private sessionEnd: SessionEndCode | undefined;
  private authFailures = 0;
  /** Bumped on every connect and stop; work started under an older value is stale. */
  private session = 0;
  private running: { session: number; promise: Promise<number> } | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private syncRetryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Set by a draining server's notice: the delay before the reconnect that follows the drop. */
  private drainDelay: number | undefined;
  private drainTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly options: NotificationClientOptions) {
    this.seen = new RecentIds(options.dedupeSize ?? DEFAULTS.dedupeSize);
    this.positions = new StreamPositions(options.position);
    if (options.cursor !== undefined && parseCounter(options.cursor) === undefined) throw new RangeError('cursor must be a decimal string');
    this.startCursor = options.cursor;
    this.acks = new PendingAcks(options.ackTimeoutMs ?? DEFAULTS.ackTimeoutMs);
    this.pageSize = Math.min(options.syncPageSize ?? NOTIFICATION_LIMITS.pageMax, NOTIFICATION_LIMITS.pageMax);
    this.maxAuthFailures = options.maxAuthFailures ?? DEFAULTS.maxAuthFailures;
    const minMs = options.reconnectDelayMs ?? DEFAULTS.reconnectDelayMs;
    const maxMs = Math.max(minMs, options.reconnectDelayMaxMs ?? DEFAULTS.reconnectDelayMaxMs);
    this.retry = new Backoff({ minMs, maxMs });
    if (options.onNotification) this.events.on('notification', options.onNotification);

    this.socket = io(options.url.replace(/\/+$/, '') + NOTIFICATIONS_NAMESPACE, {
      ...options.socketOptions,
      transports: options.transports ?? DEFAULTS.transports,
      autoConnect: false,
      // One client, one connection: sharing a Manager would share its lifecycle too.
      forceNew: true,
      reconnection: true,
      reconnectionDelay: minMs,
      reconnectionDelayMax: maxMs,
      auth: (send) => this.provideToken(send),
    });
    this.refresh = new InBandRefresh(
      this.socket,
      options.getToken,
      { enabled: options.inBandRefresh ?? true, marginMs: options.refreshMarginMs ?? DEFAULTS.refreshMarginMs, ackTimeoutMs: options.ackTimeoutMs ?? DEFAULTS.ackTimeoutMs },
      (error) => this.events.emit('error', error),
    );
    this.listen();
    // Deferred so that listeners added right after construction see 'connecting'.
    if (options.autoConnect ?? true) {
      queueMicrotask(() => {
        if (this.current.state === 'idle') this.connect();
      });
    }
  }

  on<K extends keyof NotificationClientEventMap>(event: K, listener: Listener<NotificationClientEventMap[K]>): () => void {
    return this.events.on(event, listener);
  }

  once<K extends keyof NotificationClientEventMap>(event: K, listener: Listener<NotificationClientEventMap[K]>): () => void {
    return this.events.once(event, listener);
  }

  off<K extends keyof NotificationClientEventMap>(event: K, listener: Listener<NotificationClientEventMap[K]>): void {
    this.events.off(event, listener);
  }

  get state(): ClientState {
    return this.current.state;
  }

  /** The highest cursor handed to the application (orders a listing; prefer `lastPosition` to resume). */
  get lastCursor(): string | undefined {
    return this.highestCursor?.toString() ?? this.startCursor;
  }

  /** Where the client stands in each stream: persist it and pass it as `position` to resume. */
  get lastPosition(): string | undefined {
    return this.positions.encoded();
  }

  /** The transport in use while connected. */
  get transport(): Transport | undefined {
    const name = this.socket.connected ? this.socket.io.engine?.transport.name : undefined;
    return name === 'websocket' || name === 'polling' ? name : undefined;
  }

  /** Starts (or, after a stop, restarts) connecting. */
  connect(): void {
    if (this.current.state !== 'idle' && this.current.state !== 'stopped') return;
    this.authFailures = 0;
    this.retry.reset();
    this.sessionEnd = undefined;
    this.tokenReason = 'connect';
    this.setState({ state: 'connecting' });
    this.socket.connect();
  }

  /** Stops for good: no reconnect, pending requests fail. */
  close(): void {
    this.stop('CLOSED');
  }

  async markRead(notificationId: string): Promise<void> {
    this.assertRunning();
    const ack = await this.acks.request<MarkReadAck>((done) => this.socket.emit('notification:mark-read', { notificationId }, done));
    if (!ack.ok) throw NotificationClientError.fromBody(ack.error);
    // The server tells the user's other sessions; this one hears it here.
    this.events.emit('read', { id: notificationId });
  }

  /** Resolves with the number of notifications marked. */
  async markAllRead(): Promise<number> {
    this.assertRunning();
    const ack = await this.acks.request<MarkAllReadAck>((done) => this.socket.emit('notification:mark-all-read', {}, done));
    if (!ack.ok) throw NotificationClientError.fromBody(ack.error);
    this.events.emit('read', { all: true });
    return ack.count;
  }

  /**
   * Catches up from the client's positions now (it also runs after every connect). Resolves with
   * the number of notifications the server returned; 0 when not connected (connecting catches up).
   */
  sync(): Promise<number> {
    if (this.current.state === 'stopped') return Promise.reject(stoppedError());
    if (!this.socket.connected) return Promise.resolve(0);
    const session = this.session;
    if (this.running?.session === session) return this.running.promise;
    clearTimeout(this.syncRetryTimer);
    const alive = (): boolean => this.session === session && this.socket.connected;
    // By position, else from the old cursor if one was given; with neither, the latest page only
    // (never the whole history): the application starts from where the streams are now.
    const fetch = (request: SyncPayload): Promise<SyncPage> => this.fetchPage(request);
    const pages = this.positions.known
      ? catchUp({ position: this.positions.encoded() }, fetch, (page) => this.apply(page), alive)
      : this.startCursor !== undefined
        ? catchUp({ after: this.startCursor }, fetch, (page) => this.apply(page), alive)
        : this.loadLatest(alive);
    const promise = pages.then(
      (result) => {
        if (result.complete && alive()) {
          this.startCursor = undefined;
          this.afterCatchUp();
        }
        return result.received;
      },
      (error: unknown) => {
        throw NotificationClientError.from(error);
      },
    );
    const run = { session, promise };
    this.running = run;
    const clear = (): void => {
      if (this.running === run) this.running = undefined;
    };
    promise.then(clear, clear);
    return promise;
  }

  private listen(): void {
    const socket = this.socket;
    socket.on('connect', () => this.onConnect());
    socket.on('connect_error', (error) => this.onConnectError(error));
    socket.on('disconnect', (reason) => this.onDisconnect(reason));
    socket.on('notification:new', (notification) => this.receiveLive(notification));
    socket.on('notification:read', (event) => this.events.emit('read', event));
    socket.on('notification:error', (body) => this.events.emit('error', NotificationClientError.fromBody(body)));
    socket.on('notification:rate-limit-exceeded', (event) => this.events.emit('rate-limited', event));
    socket.on('notification:session-expiring', (event) => {
      this.sessionEnd = event.code;
      if (event.code === 'SERVER_SHUTDOWN') this.holdReconnect(event.reconnectWithinMs);
    });
  }

  private provideToken(send: (data: object) => void): void {
    const session = this.session;
    this.options.getToken({ reason: this.tokenReason }).then(
      (token) => {
        if (this.current.state === 'stopped' || this.session !== session) return;
        this.refresh.tokenSent(token);
        send({ token });
      },
      (error: unknown) => {
        if (this.current.state === 'stopped') return;
        const message = error instanceof Error ? error.message : 'token provider failed';
        this.events.emit('error', new NotificationClientError('TOKEN_UNAVAILABLE', message));
        this.stop('TOKEN_UNAVAILABLE');
      },
    );
  }

  private onConnect(): void {
    this.session += 1;
    this.authFailures = 0;
    this.retry.reset();
    this.sessionEnd = undefined;
    this.tokenReason = 'reconnect';
    this.refresh.connected();
    this.setState({ state: 'syncing', transport: this.transport });
    this.catchUpNow();
  }

  private catchUpNow(): void {
    const session = this.session;
    this.sync().then(
      () => {
        if (this.session === session && this.socket.connected) this.setState({ state: 'live', transport: this.transport });
      },
      (error: NotificationClientError) => {
        if (this.session !== session || !this.socket.connected) return;
        this.events.emit('error', error);
        // Stay in syncing (held live notifications stay held) until a catch-up completes.
        this.syncRetryTimer = setTimeout(() => this.catchUpNow(), this.retry.next());
      },
    );
  }

  private onConnectError(error: Error): void {
    if (this.current.state === 'stopped') return;
    if (error.message === 'UNAUTHORIZED') this.authFailures += 1;
    const action = connectErrorAction(error.message, this.authFailures, this.maxAuthFailures);
    switch (action.kind) {
      case 'auto':
        this.setState({ state: 'reconnecting', reason: error.message });
        return;
      case 'retry':
        this.events.emit('error', new NotificationClientError(action.code, error.message));
        this.tokenReason = action.tokenReason;
        this.setState({ state: 'reconnecting', reason: action.code });
        this.scheduleConnect();
        return;
      case 'stop':
        this.events.emit('error', new NotificationClientError(action.code, error.message));
        this.stop(action.code);
    }
  }

  private onDisconnect(reason: string): void {
    this.refresh.disconnected();
    this.acks.failAll(`disconnected: ${reason}`);
    clearTimeout(this.syncRetryTimer);
    if (this.current.state === 'stopped') return;
    const action = disconnectAction(reason, this.sessionEnd);
    this.sessionEnd = undefined;
    const drainDelay = this.drainDelay;
    this.drainDelay = undefined;
    if (action.kind === 'stop') {
      this.stop(action.reason);
      return;
    }
    this.tokenReason = action.tokenReason;
    this.setState({ state: 'reconnecting', reason });
    if (drainDelay !== undefined) this.reconnectAfterDrain(drainDelay);
    else if (action.kind === 'reconnect') this.scheduleConnect();
  }

  /**
   * A draining server asked to spread reconnects over a window: socket.io's own reconnect (which
   * would follow the drop within its first delay, in step with every other client of that
   * instance) is held until our random point of the window.
   */
  private holdReconnect(windowMs: number | undefined): void {
    const delay = drainDelayMs(windowMs, DRAIN_DELAY_MAX_MS);
    if (delay === undefined) return;
    this.drainDelay = delay;
    this.socket.io.reconnection(false);
  }

  private reconnectAfterDrain(delayMs: number): void {
    clearTimeout(this.drainTimer);
    this.drainTimer = setTimeout(() => {
      this.socket.io.reconnection(true);
      // A failed attempt from here on is retried by socket.io's own backoff.
      if (this.current.state !== 'stopped' && !this.socket.connected) this.socket.connect();
    }, delayMs);
  }

  private scheduleConnect(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (this.current.state !== 'stopped' && !this.socket.active) this.socket.connect();
    }, this.retry.next());
  }

  /** A live notification: handed on if it follows on in its stream; a gap is synced first. */
  private receiveLive(notification: NotificationView): void {
    switch (this.positions.live(notification)) {
      case 'next':
        this.hand(notification);
        this.releaseHeld(notification.stream);
        return;
      case 'duplicate':
        return;
      case 'ahead':
        // While a catch-up runs, it ends by releasing what was held and syncing what is left.
        if (this.running?.session === this.session) return;
        if (this.positions.tracks(notification.stream)) this.syncAfterGrace(notification.stream);
        else this.adoptStream(notification.stream);
        return;
      case 'epoch-changed':
        if (this.running?.session !== this.session) this.syncStream(notification.stream);
    }
  }

  /** Syncs `stream` unless its gap has closed by the time the grace is over. */
  private syncAfterGrace(stream: string): void {
    if (this.gapTimers.has(stream)) return;
    const session = this.session;
    this.gapTimers.set(
      stream,
      setTimeout(() => {
        this.gapTimers.delete(stream);
        if (this.session === session && this.positions.gaps().includes(stream)) this.syncStream(stream);
      }, GAP_GRACE_MS),
    );
  }

  /** One sync page: each new notification handed over in order, positions adopted, resets done. */
  private async apply(page: SyncPage): Promise<void> {
    for (const notification of page.notifications) {
      if (this.positions.synced(notification)) this.hand(notification);
    }
    this.positions.learn(page.streams);
    if (page.reset.length > 0) await this.reload(page.reset, page.streams);
  }

  /**
   * Positions void for `reset` streams (new epoch, pruned past the position, or further behind
   * than CATCH_UP_MAX):
   * the stream restarts at the server's position, and the latest page is reloaded for it.
   */
  private async reload(reset: StreamReset[], streams: SyncPage['streams']): Promise<void> {
    const names = new Set(reset.map((item) => item.stream));
    // Untracked until the latest page is in: a live one arriving meanwhile is newer than the
    // page, so it is held (not handed before the page's older ones) and released after it.
    for (const name of names) this.positions.untrack(name);
    const reason = reset[0]?.reason ?? 'EPOCH_CHANGED';
    this.setState({ state: 'reset', reason, transport: this.transport });
    this.events.emit('reset', { streams: [...names], reason });
    let latest: SyncPage;
    try {
      latest = await this.fetchPage({});
    } catch (error) {
      // The next catch-up must still name these streams.
      for (const position of streams) if (names.has(position.stream)) this.positions.resetTo(position);
      throw error;
    }
    for (const notification of [...latest.notifications].reverse()) {
      if (names.has(notification.stream)) this.hand(notification);
    }
    for (const position of latest.streams) if (names.has(position.stream)) this.positions.resetTo(position, { keepHeld: true });
    for (const name of names) this.releaseHeld(name);
    if (this.socket.connected) this.setState({ state: this.running?.session === this.session ? 'syncing' : 'live', transport: this.transport });
  }

  /**
   * A first connect without a position: one page, the latest, handed over oldest first; every
   * stream then stands at the head the server read in the same snapshot.
   */
  private async loadLatest(alive: () => boolean): Promise<CatchUpResult> {
    const page = await this.fetchPage({});
    if (!alive()) return { received: 0, complete: false };
    for (const notification of [...page.notifications].reverse()) this.hand(notification);
    this.positions.learn(page.streams);
    return { received: page.notifications.length, complete: true };
  }

  /** After a complete catch-up: release what was held, sync the streams still behind a gap. */
  private afterCatchUp(): void {
    for (const stream of this.positions.gaps()) {
      this.releaseHeld(stream);
    }
    for (const stream of this.positions.gaps()) this.syncStream(stream);
    for (const stream of this.positions.untracked()) this.adoptStream(stream);
  }

  /**
   * Live notifications of a stream the client holds no position in: the user's role or tenant
   * changed, and the server moved the session to the new rooms without a notice (a sync by
   * position leaves unnamed streams out). As on a first connect the stream starts at the latest
   * page; it is synced from before that page's oldest entry of the stream (or the oldest held,
   * if lower), so the page and everything delivered live since are handed over once, in order.
   */
  private adoptStream(stream: string): void {
    if (this.gapSyncs.has(stream) || !this.socket.connected) return;
    const session = this.session;
    const alive = (): boolean => this.session === session && this.socket.connected;
    this.gapSyncs.add(stream);
    this.fetchPage({})
      .then((page) => {
        this.gapSyncs.delete(stream);
        if (!alive()) return;
        const head = page.streams.find((position) => position.stream === stream);
        const headOffset = head && parseCounter(head.offset);
        if (!head || headOffset === undefined) {
          // Not a stream of this user (any more): nothing held for it is theirs to see.
          this.positions.forget(stream);
          return;
        }
        let start = headOffset;
        for (const notification of page.notifications) {
          const offset = notification.stream === stream && notification.epoch === head.epoch ? parseCounter(notification.offset) : undefined;
          if (offset !== undefined && offset - 1n < start) start = offset - 1n;
        }
        const held = this.positions.lowestHeld(stream, head.epoch);
        if (held !== undefined && held - 1n < start) start = held - 1n;
        // resetTo drops what is held: the sync reads it again (it was committed before it arrived).
        this.positions.resetTo({ stream, epoch: head.epoch, offset: start.toString() });
        this.syncStream(stream);
      })
      .catch((error: unknown) => {
        this.gapSyncs.delete(stream);
        if (!alive()) return;
        this.events.emit('error', NotificationClientError.from(error));
        setTimeout(() => {
          if (alive() && !this.positions.tracks(stream)) this.adoptStream(stream);
        }, this.retry.next());
      });
  }

  private releaseHeld(stream: string): void {
    for (const held of this.positions.release(stream)) this.hand(held);
  }

  /** Syncs one stream from its position until nothing is held past a gap there. */
  private syncStream(stream: string): void {
    if (this.gapSyncs.has(stream) || !this.socket.connected) return;
    const session = this.session;
    const alive = (): boolean => this.session === session && this.socket.connected;
    const position = this.positions.encoded(stream);
    if (position === undefined) return;
    this.gapSyncs.add(stream);
    catchUp({ position }, (request) => this.fetchPage(request), (page) => this.apply(page), alive)
      .then((result) => {
        this.gapSyncs.delete(stream);
        if (!result.complete || !alive()) return;
        this.releaseHeld(stream);
        if (this.positions.gaps().includes(stream)) this.syncStream(stream);
      })
      .catch((error: unknown) => {
        this.gapSyncs.delete(stream);
        if (!alive()) return;
        this.events.emit('error', NotificationClientError.from(error));
        // The reconnect's catch-up covers it if the connection goes; otherwise try again.
        setTimeout(() => {
          if (alive()) this.syncStream(stream);
        }, this.retry.next());
      });
  }

  /** Hands a notification to the application, once per id, and moves its stream's position. */
  private hand(notification: NotificationView): void {
    this.positions.handed(notification);
    const cursor = parseCounter(notification.cursor);
    if (cursor !== undefined && (this.highestCursor === undefined || cursor > this.highestCursor)) this.highestCursor = cursor;
    if (this.seen.add(notification.id)) this.events.emit('notification', notification);
  }

  private async fetchPage(request: SyncPayload): Promise<SyncPage> {
    const payload: SyncPayload = { ...request, limit: this.pageSize };
    const ack = await this.acks.request<SyncAck>((done) => this.socket.emit('notification:sync', payload, done));
    if (!ack.ok) throw NotificationClientError.fromBody(ack.error);
    return { notifications: ack.notifications, hasMore: ack.hasMore, position: ack.position, streams: ack.streams ?? [], reset: ack.reset ?? [] };
  }

  private stop(reason: StopReason): void {
    if (this.current.state === 'stopped') return;
    clearTimeout(this.retryTimer);
    clearTimeout(this.syncRetryTimer);
    clearTimeout(this.drainTimer);
    this.drainDelay = undefined;
    this.socket.io.reconnection(true);
    this.refresh.disconnected();
    for (const timer of this.gapTimers.values()) clearTimeout(timer);
    this.gapTimers.clear();
    this.session += 1;
    // State first: the disconnect below reports synchronously and must see it.
    this.setState({ state: 'stopped', reason });
    this.socket.disconnect();
    this.acks.failAll(`stopped: ${reason}`);
  }

  private setState(change: StateChange): void {
    const previous = this.current;
    this.current = change;
    if (previous.state === change.state && previous.reason === change.reason) return;
    this.events.emit('state', change);
  }

  private assertRunning(): void {
    if (this.current.state === 'stopped') throw stoppedError();
  }
}

function stoppedError(): NotificationClientError {
  return new NotificationClientError('CLIENT_STOPPED', 'the client is stopped; call connect()');
}

export function createNotificationClient(options: NotificationClientOptions): NotificationClient {
  return new NotificationClient(options);
}
