import type { ErrorBody } from './errors.js';
import type { NotificationPriority, NotificationScope } from './limits.js';

/** Event names, both directions. One place, so server emits and client listeners cannot drift. */
export const CLIENT_EVENTS = {
  markRead: 'notification:mark-read',
  markAllRead: 'notification:mark-all-read',
  sync: 'notification:sync',
  create: 'notification:create',
  /** In-band token refresh; servers before it do not answer. */
  refresh: 'auth:refresh',
} as const;

export const SERVER_EVENTS = {
  new: 'notification:new',
  read: 'notification:read',
  error: 'notification:error',
  rateLimitExceeded: 'notification:rate-limit-exceeded',
  sessionExpiring: 'notification:session-expiring',
  /** SSE only: positions void for some streams (socket clients read `reset` in the sync ack). */
  reset: 'notification:reset',
} as const;

/** SSE carries a subset of the server events. */
export const SSE_EVENTS = [SERVER_EVENTS.new, SERVER_EVENTS.read, SERVER_EVENTS.reset] as const;

/**
 * A notification as a client sees it. `stream`, `offset` and `epoch` place it in its delivery
 * stream (docs/DELIVERY.md); `cursor` orders a listing but does not prove commit order.
 */
export interface NotificationView {
  id: string;
  cursor: string;
  /** `user:{id}`, `tenant:{id}` or `global`. */
  stream: string;
  /** Dense per stream: the previous notification of the stream has offset − 1. Decimal string. */
  offset: string;
  /** The stream's epoch: when it changes, positions held for the stream are void. */
  epoch: string;
  scope: NotificationScope;
  title: string;
  content: string;
  priority: NotificationPriority;
  data: Record<string, unknown> | null;
  createdAt: string;
  /** Present on listings for the caller; absent on live events. */
  read?: boolean;
}

export type NotificationReadEvent = { id: string } | { all: true };

export interface RateLimitExceededEvent {
  message: string;
  /** Seconds until the next event is accepted. */
  retryAfter: number;
  limit: number;
  /** Window length in seconds. */
  window: number;
}

/**
 * Why a session ends. `TOKEN_REVOKED`: its token was revoked (logout, or every token of the
 * user); `UNAUTHORIZED`: an `auth:refresh` token was refused (invalid, or another user's).
 */
export const SESSION_END_CODES = ['TOKEN_EXPIRED', 'USER_DISCONNECTED', 'SERVER_SHUTDOWN', 'TOKEN_REVOKED', 'UNAUTHORIZED'] as const;
export type SessionEndCode = (typeof SESSION_END_CODES)[number];
export interface SessionExpiringEvent {
  code: SessionEndCode;
  /**
   * With `SERVER_SHUTDOWN`: reconnect after a random delay of at most this many ms, so the clients
   * of a draining instance reach the others spread out rather than all at once. Absent: at once.
   */
  reconnectWithinMs?: number;
}

export interface MarkReadPayload {
  notificationId: string;
}
export type MarkAllReadPayload = Record<string, never>;
/**
 * Resume from `position` (the encoded string of docs/DELIVERY.md, or the structured form);
 * `after` is the old cursor, mapped onto positions. Neither: the latest page and the current
 * positions.
 */
export interface SyncPayload {
  position?: string | StreamPosition[];
  after?: string;
  limit?: number;
}

/** Where a reader stands in one stream: the last offset it holds, under `epoch`. */
export interface StreamPosition {
  stream: string;
  epoch: string;
  offset: string;
}

/**
 * Why a stream's position was voided: reload the latest page (docs/DELIVERY.md). EPOCH_CHANGED:
 * the stream was recreated (store reset, restore, truncation); AHEAD_OF_STREAM: the position
 * names an offset the stream never reached; TOO_FAR_BEHIND: more to catch up than CATCH_UP_MAX;
 * PRUNED: what follows the position is no longer stored (retention), so a replay would be partial.
 */
export type StreamResetReason = 'EPOCH_CHANGED' | 'AHEAD_OF_STREAM' | 'TOO_FAR_BEHIND' | 'PRUNED';
export interface StreamReset {
  stream: string;
  reason: StreamResetReason;
}

/** A sync's outcome: what the reader holds once it has taken the page, stream by stream. */
export interface SyncPosition {
  /** The encoded position after this page (for `position`, `?position=`, Last-Event-ID). */
  position: string;
  streams: StreamPosition[];
  /** Streams whose positions were void: their notifications were not replayed. */
  reset: StreamReset[];
}
export interface CreateNotificationPayload {
  title: string;
  content: string;
  priority?: NotificationPriority;
  userId?: string;
  scope?: NotificationScope;
  /** Scope TENANT: defaults to the caller's tenant; another tenant needs SUPER_ADMIN. */
  tenantId?: string;
  data?: Record<string, unknown>;
}

/** `auth:refresh`: a newer token for the same user, to move the session's expiry. */
export interface AuthRefreshPayload {
  token: string;
}

export type AckFailure = { ok: false; error: ErrorBody };
export type Ack<T extends object = Record<never, never>> = ({ ok: true } & T) | AckFailure;

export type MarkReadAck = Ack;
export type MarkAllReadAck = Ack<{ count: number }>;
/** `cursor` is where the next sync should start; `hasMore` says a further page is waiting. */
export type SyncAck = Ack<{ notifications: NotificationView[]; cursor: string | null; hasMore: boolean } & SyncPosition>;
export type CreateAck = Ack<{ notification: NotificationView }>;
/** `expiresAt`: the session's new expiry, epoch seconds (the new token's `exp`). */
export type AuthRefreshAck = Ack<{ expiresAt: number }>;

/** socket.io typed maps: `Socket<ServerToClientEvents, ClientToServerEvents>` on the client. */
export interface ClientToServerEvents {
  'notification:mark-read': (payload: MarkReadPayload, ack?: (res: MarkReadAck) => void) => void;
  'notification:mark-all-read': (payload: MarkAllReadPayload, ack?: (res: MarkAllReadAck) => void) => void;
  'notification:sync': (payload: SyncPayload, ack?: (res: SyncAck) => void) => void;
  'notification:create': (payload: CreateNotificationPayload, ack?: (res: CreateAck) => void) => void;
  'auth:refresh': (payload: AuthRefreshPayload, ack?: (res: AuthRefreshAck) => void) => void;
}

export interface ServerToClientEvents {
  'notification:new': (payload: NotificationView) => void;
  'notification:read': (payload: NotificationReadEvent) => void;
  'notification:error': (payload: ErrorBody) => void;
  'notification:rate-limit-exceeded': (payload: RateLimitExceededEvent) => void;
  'notification:session-expiring': (payload: SessionExpiringEvent) => void;
  'notification:reset': (payload: ResetEvent) => void;
}

/** `notification:reset` (SSE): reload the latest page for these streams, then go on from `position`. */
export interface ResetEvent {
  reset: StreamReset[];
  position: string;
}

/** REST shapes. */
export interface LoginRequest {
  email: string;
  password: string;
}
/** `GET /notifications`: `position` (docs/DELIVERY.md) or the old `after` cursor; `limit` ≤ NOTIFICATION_LIMITS.pageMax. */
export interface NotificationListQuery {
  position?: string;
  after?: string;
  limit?: number;
}
export interface LoginResponse {
  accessToken: string;
  tokenType: 'Bearer';
  /** Seconds. */
  expiresIn: number;
}
export interface NotificationPage {
  items: NotificationView[];
  /** Pass as `after` to continue; null when nothing was returned. */
  cursor: string | null;
  hasMore: boolean;
  /** Present on position-based pages (`?position=`, and the latest page): where the reader stands. */
  position?: string;
  streams?: StreamPosition[];
  reset?: StreamReset[];
}

/** `POST /notifications/batch`: up to NOTIFICATION_LIMITS.batchMax items, all validated first. */
export interface NotificationBatchItem extends CreateNotificationPayload {
  idempotencyKey?: string;
}
export interface NotificationBatchRequest {
  items: NotificationBatchItem[];
}
export interface NotificationBatchResponse {
  /** The stored notifications, in the order of the items. */
  items: NotificationView[];
}
export interface StreamTicketResponse {
  ticket: string;
  expiresIn: number;
}
