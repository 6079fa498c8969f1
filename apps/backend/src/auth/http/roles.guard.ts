import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Role } from '@notify-gateway/contracts';
import type { IncomingMessage } from 'node:http';
import type { AuthenticatedUser } from '../authenticated-user.js';
import { SecurityEventLogger } from '../../security/security-event.logger.js';
import { ROLES } from './auth.decorators.js';
import { ApiError } from '../../common/errors/api-error.js';

/** REST authorisation by role (@Roles). Runs after JwtAuthGuard. */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly security: SecurityEventLogger,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES, [context.getHandler(), context.getClass()]);
    if (!roles) return true;
    const request = context.switchToHttp().getRequest<IncomingMessage & { user?: AuthenticatedUser }>();
    const user = request.user;
    if (user && roles.includes(user.role)) return true;
    this.security.log('UNAUTHORIZED_ACCESS_ATTEMPT', { userId: user?.userId, tenantId: user?.tenantId, reason: 'role' }, request);
    throw new ApiError(403, 'FORBIDDEN');
  }
}
