import { Injectable, Logger } from '@nestjs/common';
import type { ConnectErrorCode } from '@notify-gateway/contracts';
import { AuthFailure } from '../../auth/auth-failure.js';
import type { AuthenticatedUser } from '../../auth/authenticated-user.js';
import { isDatabaseUnavailable } from '../../common/errors/database-unavailable.js';
import { MetricsService } from '../../observability/metrics.service.js';
import { ConnectionLimiter, isRefusal, type ConnectionLease, type ConnectionRefusal } from '../../security/connection-limiter.js';
import { OriginPolicy } from '../../security/origin-policy.js';
import { SecurityEventLogger } from '../../security/security-event.logger.js';

export type ConnectionTransport = 'websocket' | 'sse';

/** Who is knocking, as the transport saw it. */
export interface ConnectionPeer {
  /** The client address, worked out by the transport with the trusted-proxy rule. */
  ip: string;
  /** The transport's id for the connection, when it has one before admission (a socket id). */
  clientId?: string;
  /**
   * Set when the transport already spent this connection's CONNECT_RATE_PER_IP point (engine.io
   * spends it per handshake): `true` when that spend was over the rate. Unset: admission spends it.
   */
  overConnectRate?: boolean;
}

export interface AdmissionRequest {
  transport: ConnectionTransport;
  peer: ConnectionPeer;
  /** The Origin header as received (two headers arrive as an array and never match). */
  origin: string | string[] | undefined;
  /** Resolves the caller from the transport's credential; throws AuthFailure to refuse it. */
  credential: () => Promise<AuthenticatedUser>;
  /**
   * Transport checks that need the user but must run before a connection slot is taken (the SSE
   * request budgets). What it throws is the transport's own answer and passes through unchanged.
   */
  beforeLease?: (user: AuthenticatedUser) => Promise<void>;
}

export interface AdmittedSession {
  admitted: true;
  user: AuthenticatedUser;
  lease: ConnectionLease;
}

/** Why a connection was refused; clients only ever see `code`. */
export type RefusalReason = 'origin' | ConnectionRefusal['reason'] | 'auth' | 'error';

export interface AdmissionRefusal {
  admitted: false;
  /** The contract's connect error code (CONNECT_ERROR_CODES). */
  code: ConnectErrorCode;
  reason: RefusalReason;
  /** HTTP status for transports that answer with one; 500 when admission itself failed. */
  status: 401 | 403 | 429 | 500 | 503;
}

const STATUS: Record<ConnectErrorCode, AdmissionRefusal['status']> = {
  UNAUTHORIZED: 401,
  ORIGIN_NOT_ALLOWED: 403,
  CONNECTION_LIMIT: 429,
  RATE_LIMITED: 429,
  SERVICE_UNAVAILABLE: 503,
};

/**
 * The one way in for every long-lived connection (socket.io handshakes and SSE streams): origin,
 * the peer's caps and connect rate, the credential, then a connection lease. Each refusal is
 * logged and counted here, once, and answered with a contract code; the transports only carry
 * the request in and the answer out.
 */
@Injectable()
export class ConnectionAdmission {
  private readonly logger = new Logger(ConnectionAdmission.name);

  constructor(
    private readonly origins: OriginPolicy,
    private readonly limiter: ConnectionLimiter,
    private readonly security: SecurityEventLogger,
    private readonly metrics: MetricsService,
  ) {}

  async admit(request: AdmissionRequest): Promise<AdmittedSession | AdmissionRefusal> {
    const { transport, peer } = request;
    const origin = typeof request.origin === 'string' ? request.origin : undefined;
    const context = { clientId: peer.clientId, ip: peer.ip, origin, transport };
    this.metrics.connectionAttempts.inc({ transport });
    const refuse = (code: ConnectErrorCode, reason: RefusalReason): AdmissionRefusal => {
      this.metrics.connectionFailures.inc({ transport, reason });
      return { admitted: false, code, reason, status: STATUS[code] };
    };

    if (!this.origins.isAllowed(request.origin)) {
      this.security.log('ORIGIN_REJECTED', { ...context, reason: 'connection admission' });
      return refuse('ORIGIN_NOT_ALLOWED', 'origin');
    }

    let user: AuthenticatedUser;
    try {
      const peerRefusal = await this.admitPeer(peer);
      if (peerRefusal) {
        this.security.log(peerRefusal.code === 'RATE_LIMITED' ? 'RATE_LIMIT_EXCEEDED' : 'CONNECTION_LIMIT_EXCEEDED', { ...context, reason: peerRefusal.reason });
        return refuse(peerRefusal.code, peerRefusal.reason);
      }
      try {
        user = await request.credential();
      } catch (error) {
        if (!(error instanceof AuthFailure)) throw error;
        this.security.log('AUTHENTICATION_FAILED', { ...context, reason: error.reason });
        return refuse('UNAUTHORIZED', 'auth');
      }
    } catch (error) {
      return this.unavailable(error, context, refuse);
    }

    await request.beforeLease?.(user);

    try {
      const lease = await this.limiter.acquire(user.userId, peer.ip, transport);
      if (isRefusal(lease)) {
        this.security.log('CONNECTION_LIMIT_EXCEEDED', { ...context, userId: user.userId, tenantId: user.tenantId, reason: lease.reason });
        return refuse(lease.code, lease.reason);
      }
      return { admitted: true, user, lease };
    } catch (error) {
      return this.unavailable(error, context, refuse);
    }
  }

  /** Before the credential: cheap checks on the peer alone. */
  private async admitPeer(peer: ConnectionPeer): Promise<ConnectionRefusal | null> {
    if (peer.overConnectRate === undefined) return this.limiter.admitPeer(peer.ip);
    // Known without Redis: the transport already spent (or overspent) the connect rate.
    if (peer.overConnectRate) return { code: 'RATE_LIMITED', reason: 'connect-rate' };
    return this.limiter.admitLocal(peer.ip);
  }

  /**
   * Database or Redis trouble: refuse generically, never with the library's text. A database that
   * cannot be reached says nothing about the credential: the client is told to come back.
   */
  private unavailable(error: unknown, context: { clientId?: string; ip: string; origin?: string; transport: ConnectionTransport }, refuse: (code: ConnectErrorCode, reason: RefusalReason) => AdmissionRefusal): AdmissionRefusal {
    this.security.log('AUTHENTICATION_FAILED', { ...context, reason: 'verification unavailable' });
    this.logger.error({ err: error, clientId: context.clientId, transport: context.transport }, 'connection admission failed');
    if (isDatabaseUnavailable(error)) return refuse('SERVICE_UNAVAILABLE', 'error');
    return { ...refuse('UNAUTHORIZED', 'error'), status: 500 };
  }
}
