import {
  NOTIFICATION_LIMITS,
  NOTIFICATIONS_NAMESPACE,
  type ClientToServerEvents,
  type MarkAllReadAck,
  type MarkReadAck,
  type NotificationView,
  type ServerToClientEvents,
  type SessionEndCode,
  type SyncAck,
  type SyncPayload,
} from '@notify-gateway/contracts';
import { io, type Socket } from 'socket.io-client';
import { Backoff } from './backoff.js';
import { catchUp, type SyncPage } from './catch-up.js';
import { CursorTracker } from './cursor-tracker.js';
import { NotificationClientError } from './errors.js';
import { PendingAcks } from './pending-acks.js';
import { RecentIds } from './recent-ids.js';
import { connectErrorAction, disconnectAction } from './session-policy.js';
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

const DEFAULTS = {
  transports: ['websocket'] as Transport[],
  dedupeSize: 1000,
  ackTimeoutMs: 10_000,
  reconnectDelayMs: 1000,
  reconnectDelayMaxMs: 30_000,
  maxAuthFailures: 3,
};

/**
 * The gateway's socket.io namespace with the behaviour a frontend needs by default: a fresh token
 * on every (re)connect, catch-up from the last cursor after each one, each notification once.
 */
export class NotificationClient {
  private readonly events = new TypedEmitter<NotificationClientEventMap>();
  private readonly socket: GatewaySocket;
  private readonly seen: RecentIds;
  private readonly cursor: CursorTracker;
  private readonly retry: Backoff;
  private readonly acks: PendingAcks;
  private readonly pageSize: number;
  private readonly maxAuthFailures: number;

  private current: StateChange = { state: 'idle' };
  private tokenReason: TokenRequestReason = 'connect';
  private sessionEnd: SessionEndCode | undefined;
  private authFailures = 0;
  /** Bumped on every connect and stop; work started under an older value is stale. */
  private session = 0;
  private running: { session: number; promise: Promise<number> } | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private syncRetryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly options: NotificationClientOptions) {
    this.seen = new RecentIds(options.dedupeSize ?? DEFAULTS.dedupeSize);
    this.cursor = new CursorTracker(options.cursor);
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

  /** The catch-up cursor: persist it to resume a later session without replaying history. */
  get lastCursor(): string | undefined {
    return this.cursor.value;
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
   * Catches up from the last cursor now (it also runs after every connect). Resolves with the
   * number of notifications the server returned; 0 when not connected (connecting catches up).
   */
  sync(): Promise<number> {
    if (this.current.state === 'stopped') return Promise.reject(stoppedError());
    if (!this.socket.connected) return Promise.resolve(0);
    const session = this.session;
    if (this.running?.session === session) return this.running.promise;
    clearTimeout(this.syncRetryTimer);
    this.cursor.behind();
    const promise = catchUp(
      this.cursor.value,
      (after) => this.fetchPage(after),
      (notification) => this.receive(notification, 'sync'),
      () => this.session === session && this.socket.connected,
    ).then(
      (result) => {
        if (result.complete && this.session === session) this.cursor.completed();
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
    socket.on('notification:new', (notification) => this.receive(notification, 'live'));
    socket.on('notification:read', (event) => this.events.emit('read', event));
    socket.on('notification:error', (body) => this.events.emit('error', NotificationClientError.fromBody(body)));
    socket.on('notification:rate-limit-exceeded', (event) => this.events.emit('rate-limited', event));
    socket.on('notification:session-expiring', (event) => {
      this.sessionEnd = event.code;
    });
  }

  private provideToken(send: (data: object) => void): void {
    const session = this.session;
    this.options.getToken({ reason: this.tokenReason }).then(
      (token) => {
        if (this.current.state === 'stopped' || this.session !== session) return;
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
        // Stay in syncing (live cursors stay pending) until a catch-up completes.
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
    this.cursor.behind();
    this.acks.failAll(`disconnected: ${reason}`);
    clearTimeout(this.syncRetryTimer);
    if (this.current.state === 'stopped') return;
    const action = disconnectAction(reason, this.sessionEnd);
    this.sessionEnd = undefined;
    if (action.kind === 'stop') {
      this.stop(action.reason);
      return;
    }
    this.tokenReason = action.tokenReason;
    this.setState({ state: 'reconnecting', reason });
    if (action.kind === 'reconnect') this.scheduleConnect();
  }

  private scheduleConnect(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (this.current.state !== 'stopped' && !this.socket.active) this.socket.connect();
    }, this.retry.next());
  }

  private receive(notification: NotificationView, via: 'live' | 'sync'): void {
    if (via === 'live') this.cursor.live(notification.cursor);
    else this.cursor.synced(notification.cursor);
    if (this.seen.add(notification.id)) this.events.emit('notification', notification);
  }

  private async fetchPage(after: string | undefined): Promise<SyncPage> {
    const payload: SyncPayload = after === undefined ? { limit: this.pageSize } : { after, limit: this.pageSize };
    const ack = await this.acks.request<SyncAck>((done) => this.socket.emit('notification:sync', payload, done));
    if (!ack.ok) throw NotificationClientError.fromBody(ack.error);
    return { notifications: ack.notifications, cursor: ack.cursor, hasMore: ack.hasMore };
  }

  private stop(reason: StopReason): void {
    if (this.current.state === 'stopped') return;
    clearTimeout(this.retryTimer);
    clearTimeout(this.syncRetryTimer);
    this.session += 1;
    this.cursor.behind();
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
