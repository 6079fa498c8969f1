import type { NotificationReadEvent, NotificationView, RateLimitExceededEvent, StreamResetReason } from '@notify-gateway/contracts';
import type { ManagerOptions, SocketOptions } from 'socket.io-client';
import type { NotificationClientError } from './errors.js';

export type Transport = 'websocket' | 'polling';

/**
 * Why a token is asked for. `unauthorized` (the last one was refused) and `expired` (the server
 * ended the session at `exp`) mean: do not return the same token, refresh it.
 */
export type TokenRequestReason = 'connect' | 'reconnect' | 'unauthorized' | 'expired' | 'refresh';
export interface TokenRequest {
  reason: TokenRequestReason;
}
/** Called before every connection attempt. Reject when no token can be had: the client stops. */
export type TokenProvider = (request: TokenRequest) => Promise<string>;

/**
 * idle → connecting → syncing (catching up) → live; on a drop: reconnecting → syncing → live.
 * reset: a stream's position was void (its epoch changed, what followed it was pruned, or it was
 * further behind than the server's CATCH_UP_MAX; `reason` says which); the latest page is reloaded,
 * then back to syncing or live. stopped is final until `connect()`.
 */
export type ClientState = 'idle' | 'connecting' | 'syncing' | 'live' | 'reset' | 'reconnecting' | 'stopped';

/** Why the client stopped reconnecting. */
export type StopReason =
  | 'CLOSED'
  | 'USER_DISCONNECTED'
  | 'SERVER_DISCONNECT'
  | 'ORIGIN_NOT_ALLOWED'
  | 'UNAUTHORIZED'
  | 'TOKEN_UNAVAILABLE'
  | 'TOKEN_REVOKED';

export type StateChange =
  | { state: 'stopped'; reason: StopReason }
  | { state: Exclude<ClientState, 'stopped'>; reason?: string; transport?: Transport };

export interface NotificationClientEventMap {
  /** Each notification once: live, or from a catch-up after a (re)connect. */
  notification: NotificationView;
  /** Read marks from this client and from the user's other sessions. */
  read: NotificationReadEvent;
  error: NotificationClientError;
  'rate-limited': RateLimitExceededEvent;
  state: StateChange;
  /** Positions void for these streams: the latest page was reloaded for them. */
  reset: { streams: string[]; reason: StreamResetReason };
}

type SocketIoOptions = Partial<ManagerOptions & SocketOptions>;

export interface NotificationClientOptions {
  /** The gateway's base URL, e.g. https://api.example.com; the /notifications namespace is added. */
  url: string;
  getToken: TokenProvider;
  /** Default ['websocket']: no polling session whose id travels in URLs; add 'polling' only where websockets are blocked. */
  transports?: Transport[];
  /** Resume from this position (`lastPosition`, or a listing's `position`): each stream from its own offset. */
  position?: string;
  /**
   * Resume after this older cursor (read as a position on the first catch-up); absent, and no
   * `position`: the first connect loads the latest page only, never the whole history.
   */
  cursor?: string;
  onNotification?: (notification: NotificationView) => void;
  /** How many recent ids to remember for de-duplication; default 1000. */
  dedupeSize?: number;
  /** Notifications per sync page, at most 100 (the default). */
  syncPageSize?: number;
  /** How long to wait for an acknowledgement; default 10 s. */
  ackTimeoutMs?: number;
  /** Reconnect backoff, ms: first delay (default 1000) and ceiling (default 10000). */
  reconnectDelayMs?: number;
  reconnectDelayMaxMs?: number;
  /** Consecutive UNAUTHORIZED refusals (each after a token refresh) before stopping; default 3. */
  maxAuthFailures?: number;
  /**
   * Refresh the token in band (`auth:refresh`, no reconnect) this long before its `exp`;
   * default 60000. Never sooner than halfway through the token's remaining life. A server that
   * does not answer it (older) ends the session at `exp` and the client reconnects as before.
   */
  refreshMarginMs?: number;
  /** Default true; false: always reconnect at `exp`. */
  inBandRefresh?: boolean;
  /** Default true; with false, call `connect()`. */
  autoConnect?: boolean;
  /** Passed to socket.io-client (e.g. `path`, `extraHeaders` in Node); the client owns the rest. */
  socketOptions?: Omit<
    SocketIoOptions,
    'auth' | 'transports' | 'autoConnect' | 'reconnection' | 'reconnectionDelay' | 'reconnectionDelayMax' | 'forceNew'
  >;
}
