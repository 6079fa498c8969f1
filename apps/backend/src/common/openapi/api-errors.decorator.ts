import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ErrorBodyDto } from './response.dto.js';

const DESCRIPTIONS: Record<number, string> = {
  400: 'VALIDATION_FAILED: the body or query broke a rule (`errors` lists the fields)',
  401: 'UNAUTHORIZED: missing, invalid or expired token',
  403: 'FORBIDDEN or ORIGIN_NOT_ALLOWED',
  404: 'NOT_FOUND: no such resource for this caller',
  409: 'IDEMPOTENCY_CONFLICT: the idempotency key was used with another request',
  410: 'IDEMPOTENCY_ORIGINAL_PRUNED: the same request was stored under this key, but retention or the per-user cap has deleted it; nothing is stored again',
  413: 'PAYLOAD_TOO_LARGE',
  429: 'RATE_LIMITED or CONNECTION_LIMIT (see Retry-After)',
  503: 'SERVICE_UNAVAILABLE: the database is unreachable; nothing was stored',
};

const RETRY_AFTER = { 'Retry-After': { description: 'Seconds until the budget has room again', schema: { type: 'integer', minimum: 1 } } };

/** The error answers a route can give, all `{statusCode, code, message}`. */
export function ApiErrors(...statuses: (keyof typeof DESCRIPTIONS)[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({ status, description: DESCRIPTIONS[status], type: ErrorBodyDto, ...(status === 429 ? { headers: RETRY_AFTER } : {}) }),
    ),
    ApiResponse({ status: 500, description: 'INTERNAL_ERROR: always "Unable to process request"', type: ErrorBodyDto }),
  );
}
