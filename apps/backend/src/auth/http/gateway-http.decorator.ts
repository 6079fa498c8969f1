import { applyDecorators, UseFilters, UseGuards, UsePipes } from '@nestjs/common';
import { HttpExceptionFilter } from '../../common/filters/http-exception.filter.js';
import { JwtAuthGuard } from './jwt-auth.guard.js';
import { RolesGuard } from './roles.guard.js';
import { createValidationPipe } from '../../common/validation.js';

/**
 * The gateway's HTTP policy on one of its own controllers: Bearer authentication unless
 * @Public(), @Roles, the validation pipe and the `{statusCode, code, message}` error format.
 * Scoped to the controller, never global, so a host's own routes keep their own rules.
 */
export function GatewayHttp(): ClassDecorator {
  return applyDecorators(UseGuards(JwtAuthGuard, RolesGuard), UsePipes(VALIDATION_PIPE), UseFilters(HttpExceptionFilter));
}

const VALIDATION_PIPE = createValidationPipe();
