import { CallHandler, ExecutionContext, Injectable, NestInterceptor, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AckFailure } from '@notify-gateway/contracts';
import { from, mergeMap, of, type Observable } from 'rxjs';
import type { AppConfig } from '../../config/app-config.js';
import type { GatewaySocket } from '../../notifications/gateway-socket.js';
import { RateLimiterFactory, type RateLimit } from '../../security/rate-limiter.factory.js';
import { SecurityEventLogger } from '../../security/security-event.logger.js';

/** Per-user event budget (WS_RATE_LIMIT_POINTS per WS_RATE_LIMIT_DURATION), shared by all instances. */
@Injectable()
export class WsRateLimitInterceptor implements NestInterceptor, OnModuleInit {
  private limit!: RateLimit;

  constructor(
    private readonly config: ConfigService<AppConfig, true>,
    private readonly limiters: RateLimiterFactory,
    private readonly security: SecurityEventLogger,
  ) {}

  onModuleInit(): void {
    const ws = this.config.get('ws', { infer: true });
    this.limit = this.limiters.create('ws-events', ws.rateLimitPoints, ws.rateLimitDurationSec);
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const socket = context.switchToWs().getClient<GatewaySocket>();
    const user = socket.data.user;
    return from(this.limit.consume(user.userId)).pipe(
      mergeMap((decision) => {
        if (decision.allowed) return next.handle();
        this.security.log('RATE_LIMIT_EXCEEDED', { clientId: socket.id, userId: user.userId, tenantId: user.tenantId, ip: socket.data.ip, reason: 'ws-events' });
        const message = 'Too many events; slow down';
        socket.emit('notification:rate-limit-exceeded', {
          message,
          retryAfter: decision.retryAfterSec,
          limit: this.limit.points,
          window: this.limit.durationSec,
        });
        const ack: AckFailure = { ok: false, error: { code: 'RATE_LIMITED', message } };
        return of(ack);
      }),
    );
  }
}
