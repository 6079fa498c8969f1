export { createNotificationClient, NotificationClient } from './notification-client.js';
export { NotificationClientError, type LocalErrorCode, type NotificationClientErrorCode } from './errors.js';
export type {
  ClientState,
  NotificationClientEventMap,
  NotificationClientOptions,
  StateChange,
  StopReason,
  TokenProvider,
  TokenRequest,
  TokenRequestReason,
  Transport,
} from './types.js';
export type { NotificationReadEvent, NotificationView, RateLimitExceededEvent, StreamPosition, StreamReset, StreamResetReason } from '@notify-gateway/contracts';
