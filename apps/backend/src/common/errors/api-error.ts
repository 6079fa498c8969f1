import { HttpException } from '@nestjs/common';
import { GENERIC_ERROR_MESSAGE, type FieldError, type HttpErrorCode } from '@notify-gateway/contracts';

const DEFAULT_MESSAGES: Record<HttpErrorCode, string> = {
  VALIDATION_FAILED: 'Validation failed',
  UNAUTHORIZED: 'Unauthorized',
  FORBIDDEN: 'Forbidden',
  NOT_FOUND: 'Not found',
  ORIGIN_NOT_ALLOWED: 'Origin not allowed',
  RATE_LIMITED: 'Too many requests',
  CONNECTION_LIMIT: 'Too many connections',
  PAYLOAD_TOO_LARGE: 'Payload too large',
  UNSUPPORTED_MEDIA_TYPE: 'Unsupported media type',
  SERVICE_UNAVAILABLE: 'Service temporarily unavailable',
  INTERNAL_ERROR: GENERIC_ERROR_MESSAGE,
  IDEMPOTENCY_CONFLICT: 'Idempotency key already used with another request',
  IDEMPOTENCY_ORIGINAL_PRUNED: 'The notification this idempotency key stored is no longer kept',
};

/** An error whose code and message are safe to show a client as they are. */
export class ApiError extends HttpException {
  constructor(
    status: number,
    readonly code: HttpErrorCode,
    message: string = DEFAULT_MESSAGES[code],
    readonly errors?: FieldError[],
    /** Seconds, for 429 and 503 answers. */
    readonly retryAfter?: number,
  ) {
    super({ statusCode: status, code, message, ...(errors ? { errors } : {}) }, status);
  }

  static defaultMessage(code: HttpErrorCode): string {
    return DEFAULT_MESSAGES[code];
  }
}

/**
 * A 5xx answered on purpose with a retry hint (a stopping instance, a full catch-up line, a full
 * ticket store): load shed, no fault to chase, so it is logged as a warning without a stack.
 */
export function isDeliberateRefusal(error: unknown): error is ApiError & { retryAfter: number } {
  return error instanceof ApiError && error.retryAfter !== undefined && error.getStatus() >= 500;
}
