/** Field limits shared by the server's validators and the clients' forms. */
export const NOTIFICATION_LIMITS = {
  titleMin: 1,
  titleMax: 200,
  contentMin: 1,
  contentMax: 1000,
  /** Serialised size of the optional `data` object, in bytes. */
  dataMaxBytes: 4096,
  pageMax: 100,
  pageDefault: 50,
  /** Items of one `POST /notifications/batch` or `sendMany` call. */
  batchMax: 500,
  /**
   * `GET /notifications/unread-count` counts the unread among the newest this many of each stream
   * the caller reads, so the count stays cheap however long a tenant's history (issue 20).
   */
  unreadCountWindow: 1000,
} as const;

/** Delivery streams and positions (docs/DELIVERY.md). */
export const STREAM_LIMITS = {
  /** An epoch: 8–16 characters of [A-Za-z0-9]. */
  epochPattern: '^[A-Za-z0-9]{8,16}$',
  /** Longest encoded position (three streams). */
  positionMaxLength: 120,
} as const;

/** `Idempotency-Key` / `idempotencyKey`: 1–128 characters of [A-Za-z0-9._:-]. */
export const IDEMPOTENCY_KEY_PATTERN = '^[A-Za-z0-9._:-]{1,128}$';
/** How long a key returns its original notification. */
export const IDEMPOTENCY_WINDOW_HOURS = 24;

/** The namespace the gateway serves. */
export const NOTIFICATIONS_NAMESPACE = '/notifications';

export const PRIORITIES = ['low', 'medium', 'high'] as const;
export type NotificationPriority = (typeof PRIORITIES)[number];

export const SCOPES = ['USER', 'TENANT', 'GLOBAL'] as const;
export type NotificationScope = (typeof SCOPES)[number];

export const ROLES = ['USER', 'ADMIN', 'SUPER_ADMIN'] as const;
export type Role = (typeof ROLES)[number];

/** A notification cursor (`after`, Last-Event-ID's old form): a decimal id of 1–19 digits. */
export const CURSOR_PATTERN = '^\\d{1,19}$';

/** The longest delay a JavaScript timer takes (2^31 − 1 ms); a longer one fires at once. */
export const MAX_TIMER_MS = 2_147_483_647;

/** Milliseconds from `now` until `atMs`, as a timer can wait them: at least 0, at most MAX_TIMER_MS. */
export function timerDelayUntil(atMs: number, now: number = Date.now()): number {
  return Math.min(Math.max(atMs - now, 0), MAX_TIMER_MS);
}
