import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { ConnectErrorCode } from '@notify-gateway/contracts';
import type { ExtendedError } from 'socket.io';
import { AuthFailure } from '../../auth/auth-failure.js';
import { bearerToken } from '../../auth/bearer-token.js';
import { peerAddress } from '../../common/client-ip.js';
import { isDatabaseUnavailable } from '../../common/errors/database-unavailable.js';
import type { AppConfig } from '../../config/app-config.js';
import { TokenVerifier } from '../../auth/token-verifier.js';
import { MetricsService } from '../../observability/metrics.service.js';
import { ConnectionLimiter, isRefusal, type ConnectionRefusal } from '../../security/connection-limiter.js';
import { OriginPolicy } from '../../security/origin-policy.js';
import { SecurityEventLogger } from '../../security/security-event.logger.js';
import { EngineAdmission } from './engine-admission.js';
import type { GatewaySocket } from './gateway-socket.js';
import { SocketEventBudget } from './socket-event-budget.js';

/**
 * Namespace middleware: runs before a socket joins the namespace, so an unauthenticated socket
 * never exists. Refusals carry a contract code only; the reason goes to the security log.
 */
@Injectable()
export class HandshakeAuthenticator {
  private readonly logger = new Logger(HandshakeAuthenticator.name);
  private readonly trustedHops: number;

  constructor(
    private readonly verifier: TokenVerifier,
    private readonly origins: OriginPolicy,
    private readonly limiter: ConnectionLimiter,
    private readonly security: SecurityEventLogger,
    private readonly metrics: MetricsService,
    private readonly admission: EngineAdmission,
    private readonly budget: SocketEventBudget,
    config: ConfigService<AppConfig, true>,
  ) {
    this.trustedHops = config.get('trustProxyHops', { infer: true });
  }

  async authenticate(socket: GatewaySocket, next: (error?: ExtendedError) => void): Promise<void> {
    const { headers } = socket.handshake;
    const ip = peerAddress(socket.request, this.trustedHops);
    const origin = typeof headers.origin === 'string' ? headers.origin : undefined;
    const context = { clientId: socket.id, ip, origin, transport: 'websocket' as const };
    this.metrics.connectionAttempts.inc({ transport: 'websocket' });
    const refuse = (code: ConnectErrorCode, reason: string): void => {
      this.metrics.connectionFailures.inc({ transport: 'websocket', reason });
      next(new Error(code));
    };

    try {
      // engine.io's allowRequest already refused foreign origins; this covers the namespace too.
      if (!this.origins.isAllowed(headers.origin)) {
        this.security.log('ORIGIN_REJECTED', { ...context, reason: 'namespace handshake' });
        return refuse('ORIGIN_NOT_ALLOWED', 'origin');
      }
      // Known here without Redis: the handshake already spent (or overspent) the connect rate.
      const peerRefusal: ConnectionRefusal | null = this.admission.isOverRate(socket.request)
        ? { code: 'RATE_LIMITED', reason: 'connect-rate' }
        : this.limiter.admitLocal(ip);
      if (peerRefusal) {
        this.security.log(peerRefusal.code === 'RATE_LIMITED' ? 'RATE_LIMIT_EXCEEDED' : 'CONNECTION_LIMIT_EXCEEDED', { ...context, reason: peerRefusal.reason });
        refuse(peerRefusal.code, peerRefusal.reason);
        // Over the connect rate: nothing more this connection may do; close once the answer is out.
        if (peerRefusal.reason === 'connect-rate') setImmediate(() => socket.conn.close());
        return;
      }

      const token = handshakeToken(socket);
      let user;
      try {
        user = await this.verifier.verify(token);
      } catch (error) {
        if (!(error instanceof AuthFailure)) throw error;
        this.security.log('AUTHENTICATION_FAILED', { ...context, reason: error.reason });
        return refuse('UNAUTHORIZED', 'auth');
      }

      const lease = await this.limiter.acquire(user.userId, ip, 'websocket');
      if (isRefusal(lease)) {
        this.security.log('CONNECTION_LIMIT_EXCEEDED', { ...context, userId: user.userId, tenantId: user.tenantId, reason: lease.reason });
        return refuse(lease.code, lease.reason);
      }
      // A handshake can be abandoned between here and the connect: the lease must not leak.
      socket.conn.once('close', () => lease.release());
      socket.data = { user, lease, ip, origin, connectedAt: Date.now() };
      this.budget.attach(socket);
      this.security.log('AUTHENTICATION_SUCCESS', { ...context, userId: user.userId, tenantId: user.tenantId });
      this.security.log('WEBSOCKET_CONNECT', { ...context, userId: user.userId, tenantId: user.tenantId, via: socket.conn.transport.name });
      next();
    } catch (error) {
      // Database or Redis trouble: refuse generically, never with the library's text. A database
      // that cannot be reached says nothing about the token: the client is told to come back.
      const unavailable = isDatabaseUnavailable(error);
      this.security.log('AUTHENTICATION_FAILED', { ...context, reason: 'verification unavailable' });
      this.metrics.connectionFailures.inc({ transport: 'websocket', reason: 'error' });
      this.logger.error({ err: error, clientId: socket.id }, 'handshake verification failed');
      next(new Error(unavailable ? 'SERVICE_UNAVAILABLE' : 'UNAUTHORIZED'));
    }
  }
}

/** `auth.token`, or an `Authorization: Bearer` header; never the query string. */
function handshakeToken(socket: GatewaySocket): string | undefined {
  const auth: unknown = socket.handshake.auth;
  if (auth && typeof auth === 'object' && 'token' in auth && typeof auth.token === 'string') return auth.token;
  return bearerToken(socket.handshake.headers.authorization);
}
