import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { Public } from '../auth/http/auth.decorators.js';
import { DependencyHealth } from '../observability/dependency.health.js';
import { GatewayHttp } from '../auth/http/gateway-http.decorator.js';

@ApiTags('operations')
@Public()
@GatewayHttp()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly dependencies: DependencyHealth,
  ) {}

  /** As /health/live: what a probe tries first. */
  @Get()
  @HealthCheck()
  root(): Promise<HealthCheckResult> {
    return this.live();
  }

  /** The process is up and its event loop turns. */
  @Get('live')
  @HealthCheck()
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  /** The instance can serve: database and (when configured) Redis answer. 503 otherwise. */
  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    return this.health.check([() => this.dependencies.database(), () => this.dependencies.redis()]);
  }
}
