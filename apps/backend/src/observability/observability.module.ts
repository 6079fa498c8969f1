import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { DependencyHealth } from './dependency.health.js';
import { MetricsService } from './metrics.service.js';
import { GatewayConfigModule } from '../config/gateway-config.module.js';

@Global()
@Module({
  imports: [TerminusModule.forRoot({ logger: false }), GatewayConfigModule],
  providers: [MetricsService, DependencyHealth],
  // The routes (HealthController, MetricsController) are mounted by NotificationGatewayModule, as its options say.
  exports: [MetricsService, DependencyHealth, TerminusModule],
})
export class ObservabilityModule {}
