import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { AuthFailure } from '../auth-failure.js';
import type { AuthenticatedUser } from '../authenticated-user.js';
import { bearerToken } from '../bearer-token.js';
import { TokenVerifier } from '../token-verifier.js';
import { SecurityEventLogger } from '../../security/security-event.logger.js';
import { clientIp } from '../../common/client-ip.js';
import { IS_PUBLIC } from './auth.decorators.js';
import { ApiError } from '../../common/errors/api-error.js';

/** REST authentication: every route needs a Bearer token unless marked @Public(). */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: TokenVerifier,
    private readonly security: SecurityEventLogger,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()])) return true;
    const request = context.switchToHttp().getRequest<Request & { user?: AuthenticatedUser }>();
    try {
      request.user = await this.verifier.verify(bearerToken(request.headers.authorization));
      return true;
    } catch (error) {
      if (!(error instanceof AuthFailure)) throw error;
      this.security.log('AUTHENTICATION_FAILED', {
        ip: clientIp(request),
        origin: request.headers.origin,
        reason: error.reason,
        transport: 'http',
      }, request);
      throw new ApiError(401, 'UNAUTHORIZED');
    }
  }
}
