import { Controller, Get, Header, Headers } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { ConfigService } from '@nestjs/config';
import { timingSafeEqual } from 'node:crypto';
import type { AppConfig } from '../config/app-config.js';
import { bearerToken } from '../auth/bearer-token.js';
import { Public } from '../auth/http/auth.decorators.js';
import { ApiError } from '../common/errors/api-error.js';
import { Registry } from 'prom-client';
import { MetricsService } from '../observability/metrics.service.js';
import { GatewayHttp } from '../auth/http/gateway-http.decorator.js';

@ApiTags('operations')
@Public()
@GatewayHttp()
@Controller('metrics')
export class MetricsController {
  private readonly token?: Buffer;

  constructor(
    private readonly metrics: MetricsService,
    config: ConfigService<AppConfig, true>,
  ) {
    const token = config.get('metrics', { infer: true }).token;
    this.token = token === undefined ? undefined : Buffer.from(token);
  }

  /** Prometheus text format; behind METRICS_TOKEN when one is configured. */
  @Get()
  @ApiOperation({ summary: 'Prometheus metrics', description: 'Needs `Authorization: Bearer METRICS_TOKEN` when METRICS_TOKEN is set.' })
  @ApiBearerAuth()
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text format', schema: { type: 'string' } })
  @Header('Cache-Control', 'no-store')
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  async scrape(@Headers('authorization') authorization?: string): Promise<string> {
    if (this.token && !this.authorized(bearerToken(authorization))) throw new ApiError(401, 'UNAUTHORIZED');
    return this.metrics.registry.metrics();
  }

  private authorized(presented: string | undefined): boolean {
    if (!this.token || presented === undefined) return false;
    const candidate = Buffer.from(presented);
    return candidate.length === this.token.length && timingSafeEqual(candidate, this.token);
  }
}
