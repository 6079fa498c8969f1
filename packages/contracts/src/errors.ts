/**
 * Codes a rejected socket.io connection carries in `connect_error` (`err.message`).
 * SERVICE_UNAVAILABLE extends the contract's four: the token could not be checked (the database
 * is unreachable); retry with backoff.
 */
export const CONNECT_ERROR_CODES = ['UNAUTHORIZED', 'ORIGIN_NOT_ALLOWED', 'CONNECTION_LIMIT', 'RATE_LIMITED', 'SERVICE_UNAVAILABLE'] as const;
export type ConnectErrorCode = (typeof CONNECT_ERROR_CODES)[number];

/** Codes of `notification:error` and of `{ok:false}` acks. */
export const EVENT_ERROR_CODES = [
  'VALIDATION_FAILED',
  'FORBIDDEN',
  'NOT_FOUND',
  'RATE_LIMITED',
  'UNAUTHORIZED',
  'INTERNAL_ERROR',
  'IDEMPOTENCY_CONFLICT',
  'IDEMPOTENCY_ORIGINAL_PRUNED',
  'SERVICE_UNAVAILABLE',
] as const;
export type EventErrorCode = (typeof EVENT_ERROR_CODES)[number];

/** Codes of HTTP error bodies `{statusCode, code, message}`. */
export const HTTP_ERROR_CODES = [
  'VALIDATION_FAILED',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'ORIGIN_NOT_ALLOWED',
  'RATE_LIMITED',
  'CONNECTION_LIMIT',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'SERVICE_UNAVAILABLE',
  'INTERNAL_ERROR',
  'IDEMPOTENCY_CONFLICT',
  /** 410: the key's original (same request) was pruned within the window; nothing is stored again. */
  'IDEMPOTENCY_ORIGINAL_PRUNED',
] as const;
export type HttpErrorCode = (typeof HTTP_ERROR_CODES)[number];

/** The one message every unexpected failure shows a client. */
export const GENERIC_ERROR_MESSAGE = 'Unable to process request';

export interface FieldError {
  field: string;
  messages: string[];
}

export interface ErrorBody {
  code: EventErrorCode;
  message: string;
  errors?: FieldError[];
}

export interface HttpErrorBody {
  statusCode: number;
  code: HttpErrorCode;
  message: string;
  errors?: FieldError[];
}
