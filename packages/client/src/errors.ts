import type { ConnectErrorCode, ErrorBody, EventErrorCode, FieldError } from '@notify-gateway/contracts';

/** Codes the client adds to the server's: a request that got no answer, a stopped client, no token. */
export type LocalErrorCode = 'TIMEOUT' | 'CLIENT_STOPPED' | 'TOKEN_UNAVAILABLE' | 'TRANSPORT_ERROR';
export type NotificationClientErrorCode = EventErrorCode | ConnectErrorCode | LocalErrorCode;

export class NotificationClientError extends Error {
  override readonly name = 'NotificationClientError';

  constructor(
    readonly code: NotificationClientErrorCode,
    message: string,
    readonly errors?: FieldError[],
  ) {
    super(message);
  }

  static fromBody(body: ErrorBody): NotificationClientError {
    return new NotificationClientError(body.code, body.message, body.errors);
  }

  static from(error: unknown): NotificationClientError {
    if (error instanceof NotificationClientError) return error;
    return new NotificationClientError('TRANSPORT_ERROR', error instanceof Error ? error.message : String(error));
  }
}
