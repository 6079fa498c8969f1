import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ConnectionMonitor } from './connection-monitor.js';
import { DependencyHealth } from './dependency.health.js';
import { HealthController } from './health.controller.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsService } from './metrics.service.js';

@Global()
@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController, MetricsController],
  providers: [MetricsService, DependencyHealth, ConnectionMonitor],
  exports: [MetricsService],
})
export class ObservabilityModule {}
