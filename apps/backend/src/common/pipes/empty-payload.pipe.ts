import { Injectable, PipeTransform } from '@nestjs/common';
import { ApiError } from '../errors/api-error.js';

/** For events that take no fields: `{}` or nothing; anything else is refused like a bad DTO. */
@Injectable()
export class EmptyPayloadPipe implements PipeTransform<unknown, Record<string, never>> {
  transform(value: unknown): Record<string, never> {
    if (value === undefined || value === null) return {};
    if (typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0) return {};
    throw new ApiError(400, 'VALIDATION_FAILED', undefined, [{ field: '(payload)', messages: ['payload must be an empty object'] }]);
  }
}
