import { Global, Module } from '@nestjs/common';
import { ConnectionLimiter } from './connection-limiter.js';
import { ConnectionMonitor } from './connection-monitor.js';
import { OriginPolicy } from './origin-policy.js';
import { RateLimiterFactory } from './rate-limiter.factory.js';
import { RequestBudgets } from './request-budgets.js';
import { SecurityEventLogger } from './security-event.logger.js';
import { UserConnectionCounter } from './user-connection-counter.js';
import { GatewayConfigModule } from '../config/gateway-config.module.js';

@Global()
@Module({
  imports: [GatewayConfigModule],
  providers: [OriginPolicy, RateLimiterFactory, SecurityEventLogger, ConnectionLimiter, UserConnectionCounter, RequestBudgets, ConnectionMonitor],
  exports: [OriginPolicy, RateLimiterFactory, SecurityEventLogger, ConnectionLimiter, RequestBudgets],
})
export class SecurityModule {}
