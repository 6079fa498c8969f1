import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Role } from '@notify-gateway/contracts';
import type { GatewaySocket } from '../../notifications/gateway-socket.js';
import { SecurityEventLogger } from '../../security/security-event.logger.js';
import { ROLES } from '../decorators/auth.decorators.js';
import { ApiError } from '../errors/api-error.js';

/**
 * Per message: the handshake authenticated the socket, but a token checked once is not trusted
 * forever. Re-checks expiry (ending the session when it has passed) and the handler's roles.
 */
@Injectable()
export class WsJwtGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly security: SecurityEventLogger,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const socket = context.switchToWs().getClient<GatewaySocket>();
    const user = socket.data.user;
    if (!user) throw new ApiError(401, 'UNAUTHORIZED');
    if (user.exp * 1000 <= Date.now()) {
      this.security.log('TOKEN_EXPIRED', { clientId: socket.id, userId: user.userId, tenantId: user.tenantId, reason: 'message after expiry' });
      socket.emit('notification:session-expiring', { code: 'TOKEN_EXPIRED' });
      socket.disconnect(true);
      throw new ApiError(401, 'UNAUTHORIZED');
    }
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES, [context.getHandler(), context.getClass()]);
    if (roles && !roles.includes(user.role)) {
      this.security.log('UNAUTHORIZED_ACCESS_ATTEMPT', { clientId: socket.id, userId: user.userId, tenantId: user.tenantId, reason: `role for ${context.getHandler().name}` });
      throw new ApiError(403, 'FORBIDDEN');
    }
    return true;
  }
}
