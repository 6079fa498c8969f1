import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Role } from '@notify-gateway/contracts';
import { UserDirectory } from '../../auth/user-directory.js';
import type { GatewaySocket } from './gateway-socket.js';
import { SessionReconciler } from '../session-reconciler.js';
import { SecurityEventLogger } from '../../security/security-event.logger.js';
import { ROLES } from '../../auth/http/auth.decorators.js';
import { ApiError } from '../../common/errors/api-error.js';

/**
 * Per message: the handshake authenticated the socket, but a token checked once is not trusted
 * forever. Re-checks expiry (ending the session when it has passed), then the user's state from
 * the user-state cache — an inactive user's sessions end, a changed role or tenant moves them
 * (SessionReconciler) before anything runs with the old one — then the handler's roles.
 */
@Injectable()
export class WsSessionGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly security: SecurityEventLogger,
    private readonly directory: UserDirectory,
    private readonly reconciler: SessionReconciler,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const socket = context.switchToWs().getClient<GatewaySocket>();
    const user = socket.data.user;
    if (!user) throw new ApiError(401, 'UNAUTHORIZED');
    if (user.exp * 1000 <= Date.now()) {
      this.security.log('TOKEN_EXPIRED', { clientId: socket.id, userId: user.userId, tenantId: user.tenantId, reason: 'message after expiry' });
      socket.emit('notification:session-expiring', { code: 'TOKEN_EXPIRED' });
      socket.disconnect(true);
      throw new ApiError(401, 'UNAUTHORIZED');
    }
    const state = await this.directory.findById(user.userId);
    if (!state?.isActive) {
      this.security.log('UNAUTHORIZED_ACCESS_ATTEMPT', { clientId: socket.id, userId: user.userId, tenantId: user.tenantId, reason: 'user no longer active' });
      this.reconciler.apply(user.userId, state);
      throw new ApiError(401, 'UNAUTHORIZED');
    }
    if (state.role !== user.role || state.tenantId !== user.tenantId) this.reconciler.apply(user.userId, state);
    const current = socket.data.user;
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES, [context.getHandler(), context.getClass()]);
    if (roles && !roles.includes(current.role)) {
      this.security.log('UNAUTHORIZED_ACCESS_ATTEMPT', { clientId: socket.id, userId: current.userId, tenantId: current.tenantId, reason: `role for ${context.getHandler().name}` });
      throw new ApiError(403, 'FORBIDDEN');
    }
    return true;
  }
}
