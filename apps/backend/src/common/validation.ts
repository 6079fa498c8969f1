import { ValidationPipe } from '@nestjs/common';
import { ApiError } from './errors/api-error.js';
import { toFieldErrors } from './errors/validation-errors.js';

/** The one validation policy, for HTTP bodies and socket payloads alike. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
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
