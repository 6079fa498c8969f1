import { Global, Module } from '@nestjs/common';
import { OriginPolicy } from './origin-policy.js';
import { RateLimiterFactory } from './rate-limiter.factory.js';
import { SecurityEventLogger } from './security-event.logger.js';

@Global()
@Module({
  providers: [OriginPolicy, RateLimiterFactory, SecurityEventLogger],
  exports: [OriginPolicy, RateLimiterFactory, SecurityEventLogger],
})
export class SecurityModule {}
