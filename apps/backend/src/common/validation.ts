import { ValidationPipe, type ArgumentMetadata } from '@nestjs/common';
import { ApiError } from './errors/api-error.js';
import { toFieldErrors } from './errors/validation-errors.js';

/** Deeper than any valid payload; deeper input is refused before anything recurses into it. */
export const MAX_PAYLOAD_DEPTH = 64;

/**
 * Nest's ValidationPipe (and class-transformer after it) walk a payload recursively: a body of a
 * few thousand nested arrays overflows the stack and would surface as a 500. The depth is checked
 * first, without recursion, and such input gets the same VALIDATION_FAILED as any other bad input.
 */
class BoundedValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (this.toValidate(metadata) && deeperThan(value, MAX_PAYLOAD_DEPTH)) {
      throw new ApiError(400, 'VALIDATION_FAILED', undefined, [
        { field: '(payload)', messages: [`payload must not nest deeper than ${MAX_PAYLOAD_DEPTH} levels`] },
      ]);
    }
    return super.transform(value, metadata);
  }
}

function deeperThan(root: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop() as [unknown, number];
    if (value === null || typeof value !== 'object') continue;
    if (depth >= limit) return true;
    for (const child of Object.values(value)) stack.push([child, depth + 1]);
  }
  return false;
}

/** The one validation policy, for HTTP bodies and socket payloads alike. */
export function createValidationPipe(): ValidationPipe {
  return new BoundedValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    stopAtFirstError: false,
    exceptionFactory: (errors) => new ApiError(400, 'VALIDATION_FAILED', undefined, toFieldErrors(errors)),
  });
}
