import { Injectable } from '@nestjs/common';
import type { AuthRefreshAck } from '@notify-gateway/contracts';
import { AuthFailure } from '../../auth/auth-failure.js';
import type { AuthenticatedUser } from '../../auth/authenticated-user.js';
import { TokenVerifier } from '../../auth/token-verifier.js';
import { MetricsService } from '../../observability/metrics.service.js';
import { SecurityEventLogger } from '../../security/security-event.logger.js';
import type { GatewaySocket } from './gateway-socket.js';

export type RefreshOutcome = { ok: true; user: AuthenticatedUser } | { ok: false };

/** The refused answer: the same whatever the rule, so a probe learns nothing. */
export const REFRESH_REFUSED: AuthRefreshAck = { ok: false, error: { code: 'UNAUTHORIZED', message: 'Unauthorized' } };

/**
 * `auth:refresh`: a new token for the session's user, verified with the full rules. The
 * session keeps its rooms only when the token speaks for the same user, tenant and role.
 */
@Injectable()
export class SessionRefresh {
  constructor(
    private readonly verifier: TokenVerifier,
    private readonly security: SecurityEventLogger,
    private readonly metrics: MetricsService,
  ) {}

  async verify(socket: GatewaySocket, token: string): Promise<RefreshOutcome> {
    const current = socket.data.user;
    const context = { clientId: socket.id, userId: current.userId, tenantId: current.tenantId, ip: socket.data.ip, transport: 'websocket' as const };
    let next: AuthenticatedUser;
    try {
      next = await this.verifier.verify(token);
    } catch (error) {
      if (!(error instanceof AuthFailure)) throw error;
      return this.refused(context, `refresh: ${error.reason}`);
    }
    if (next.userId !== current.userId) return this.refused(context, 'refresh: token of another user');
    // Rooms follow tenant and role: a change needs a new session, not a moved expiry.
    if (next.tenantId !== current.tenantId || next.role !== current.role) return this.refused(context, 'refresh: tenant or role changed');
    // Revoked during the verification above: RevokedSessions matched the session's old token, not this one.
    if (this.verifier.revokedSessionEnd(next) !== undefined) return this.refused(context, 'refresh: TOKEN_REVOKED');
    this.metrics.tokenRefreshes.inc({ outcome: 'ok' });
    this.security.log('TOKEN_REFRESHED', { ...context, expiresAt: next.exp });
    return { ok: true, user: next };
  }

  private refused(context: Record<string, unknown>, reason: string): RefreshOutcome {
    this.metrics.tokenRefreshes.inc({ outcome: 'refused' });
    this.security.log('AUTHENTICATION_FAILED', { ...context, reason });
    return { ok: false };
  }
}
