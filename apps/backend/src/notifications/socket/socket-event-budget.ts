import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AckFailure } from '@notify-gateway/contracts';
import type { AppConfig } from '../../config/app-config.js';
import { MetricsService } from '../../observability/metrics.service.js';
import { KnownRefusals } from '../../security/known-refusals.js';
import { RateLimiterFactory, type RateLimit, type RateLimitDecision } from '../../security/rate-limiter.factory.js';
import { SecurityEventLogger } from '../../security/security-event.logger.js';
import type { GatewaySocket } from './gateway-socket.js';

const RATE_LIMITED_MESSAGE = 'Too many events; slow down';

/**
 * The per-user event budget (WS_RATE_LIMIT_POINTS per WS_RATE_LIMIT_DURATION, cluster-wide),
 * spent by every inbound event as socket.io receives it: before Nest's guards, so an event the
 * role guard refuses or no handler listens for costs the same as one that is served. While a
 * user is over budget the answer is known, so this instance refuses without asking Redis again.
 * A socket that keeps sending refused events (WS_MAX_REFUSALS) loses its session.
 */
@Injectable()
export class SocketEventBudget implements OnModuleInit {
  private limit!: RateLimit;
  private readonly known = new KnownRefusals();
  private readonly maxRefusals: number;

  constructor(
    private readonly config: ConfigService<AppConfig, true>,
    private readonly limiters: RateLimiterFactory,
    private readonly security: SecurityEventLogger,
    private readonly metrics: MetricsService,
  ) {
    this.maxRefusals = config.get('abuse', { infer: true }).maxRefusals;
  }

  onModuleInit(): void {
    const ws = this.config.get('ws', { infer: true });
    this.limit = this.limiters.create('ws-events', ws.rateLimitPoints, ws.rateLimitDurationSec);
  }

  /**
   * Spends one event of the socket's user, then calls `proceed` if it is within budget (the
   * socket's one inbound dispatcher calls this for every event, before any handler or guard).
   */
  spend(socket: GatewaySocket, packet: unknown[], proceed: () => void): void {
    void this.decide(socket.data.user.userId).then((decision) => {
      if (decision.allowed) return proceed();
      this.refuseRateLimited(socket, packet, decision.retryAfterSec);
    });
  }

  /** A refusal of any kind (rate limit, role): counts towards ending the session. */
  noteRefusal(socket: GatewaySocket, reason: string): void {
    const refusals = (socket.data.refusals ?? 0) + 1;
    socket.data.refusals = refusals;
    if (refusals <= this.maxRefusals || !socket.connected) return;
    const { user } = socket.data;
    this.security.log('SECURITY_VIOLATION', {
      clientId: socket.id,
      userId: user.userId,
      tenantId: user.tenantId,
      ip: socket.data.ip,
      reason: `${refusals} refused events (last: ${reason}); session ended`,
    });
    this.metrics.abuseClosures.inc({ bound: 'refusals' });
    socket.disconnect(true);
  }

  private async decide(userId: string): Promise<RateLimitDecision> {
    const known = this.known.retryAfterSec(userId);
    if (known !== null) return { allowed: false, retryAfterSec: known, firstInWindow: false };
    const decision = await this.limit.consume(userId);
    if (!decision.allowed) this.known.remember(userId, decision.retryAfterSec);
    return decision;
  }

  private refuseRateLimited(socket: GatewaySocket, packet: unknown[], retryAfterSec: number): void {
    const { user } = socket.data;
    this.security.log('RATE_LIMIT_EXCEEDED', { clientId: socket.id, userId: user.userId, tenantId: user.tenantId, ip: socket.data.ip, reason: 'ws-events' });
    if (socket.connected) {
      socket.emit('notification:rate-limit-exceeded', { message: RATE_LIMITED_MESSAGE, retryAfter: retryAfterSec, limit: this.limit.points, window: this.limit.durationSec });
      const ack = packet[packet.length - 1];
      if (typeof ack === 'function') {
        const failure: AckFailure = { ok: false, error: { code: 'RATE_LIMITED', message: RATE_LIMITED_MESSAGE } };
        (ack as (response: AckFailure) => void)(failure);
      }
    }
    this.noteRefusal(socket, 'rate-limited');
  }
}
