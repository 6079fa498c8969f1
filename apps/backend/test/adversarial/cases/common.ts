import type { ClientSocket } from '../../support/sockets';

/** The generic bodies the contract promises, by status. */
export const GENERIC = {
  400: { statusCode: 400, code: 'VALIDATION_FAILED', message: 'Validation failed' },
  401: { statusCode: 401, code: 'UNAUTHORIZED', message: 'Unauthorized' },
  403: { statusCode: 403, code: 'FORBIDDEN', message: 'Forbidden' },
  404: { statusCode: 404, code: 'NOT_FOUND', message: 'Not found' },
  413: { statusCode: 413, code: 'PAYLOAD_TOO_LARGE', message: 'Payload too large' },
  415: { statusCode: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Unsupported media type' },
  429: { statusCode: 429, code: 'RATE_LIMITED', message: 'Too many requests' },
  500: { statusCode: 500, code: 'INTERNAL_ERROR', message: 'Unable to process request' },
} as const;

export const ORIGIN_403 = { statusCode: 403, code: 'ORIGIN_NOT_ALLOWED', message: 'Origin not allowed' };

/** An event with an ack, as socket.io-client sends it; resolves with the ack payload. */
export function ackOf(socket: ClientSocket, event: string, payload: unknown, timeoutMs = 5000): Promise<unknown> {
  return (socket.timeout(timeoutMs) as unknown as { emitWithAck(event: string, payload: unknown): Promise<unknown> }).emitWithAck(event, payload);
}

/** Long enough for a stray event to arrive: used before asserting that something did NOT arrive. */
export const settle = (ms = 200): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The VALIDATION_FAILED ack for these fields (messages are not pinned: the field list is). */
export function fieldsOf(ack: unknown): unknown {
  const value = ack as { ok?: boolean; error?: { code?: string; message?: string; errors?: { field: string }[] } };
  if (value?.ok !== false || value.error?.code !== 'VALIDATION_FAILED') return ack;
  return { code: 'VALIDATION_FAILED', message: value.error.message, fields: [...new Set((value.error.errors ?? []).map((error) => error.field))].sort() };
}

export const invalid = (...fields: string[]) => ({ code: 'VALIDATION_FAILED', message: 'Validation failed', fields: [...fields].sort() });
