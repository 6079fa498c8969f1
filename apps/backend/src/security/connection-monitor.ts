import { Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import type { AppConfig } from '../config/app-config.js';
import { ConnectionLimiter } from './connection-limiter.js';
import { SecurityEventLogger } from './security-event.logger.js';
import { MetricsService } from '../observability/metrics.service.js';

/** Alert thresholds (deploy/prometheus/alerts.yml alerts on the same figures). */
export const THRESHOLDS = {
  connectionUsage: 0.8,
  connectionFailureRate: 0.05,
  authSuccessRate: 0.95,
  memoryGrowth: 1.5,
} as const;

interface Totals {
  attempts: number;
  failures: number;
  authSuccess: number;
  authFailures: number;
}

/**
 * Every METRICS_INTERVAL_MS: one CONNECTION_METRICS line, and alert lines when a threshold is
 * crossed. Rates are over the interval, not since start, so an old incident
 * does not mask a new one.
 */
@Injectable()
export class ConnectionMonitor implements OnApplicationBootstrap, OnModuleDestroy {
  private timer?: NodeJS.Timeout;
  private previous: Totals = { attempts: 0, failures: 0, authSuccess: 0, authFailures: 0 };
  private memoryBaseline?: number;

  constructor(
    private readonly metrics: MetricsService,
    private readonly limiter: ConnectionLimiter,
    private readonly security: SecurityEventLogger,
    @InjectPinoLogger('ConnectionMonitor') private readonly logger: PinoLogger,
    private readonly config: ConfigService<AppConfig, true>,
  ) {}

  onApplicationBootstrap(): void {
    const interval = this.config.get('metrics', { infer: true }).intervalMs;
    // A monitoring tick never takes the process down: a rejection here was an unhandled one.
    this.timer = setInterval(() => void this.report().catch((error: unknown) => this.logger.warn({ err: error }, 'connection metrics not reported')), interval);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  async report(): Promise<void> {
    const totals = await this.totals();
    const delta: Totals = {
      attempts: totals.attempts - this.previous.attempts,
      failures: totals.failures - this.previous.failures,
      authSuccess: totals.authSuccess - this.previous.authSuccess,
      authFailures: totals.authFailures - this.previous.authFailures,
    };
    this.previous = totals;

    const active = this.limiter.active;
    const capacity = this.limiter.capacity;
    const failureRate = delta.attempts > 0 ? delta.failures / delta.attempts : 0;
    const authAttempts = delta.authSuccess + delta.authFailures;
    const authSuccessRate = authAttempts > 0 ? delta.authSuccess / authAttempts : 1;
    const rss = residentSetBytes();
    // The first sample after start-up is the memory baseline.
    if (rss !== null) this.memoryBaseline ??= rss;
    this.metrics.connectionFailureRate.set(failureRate);

    this.security.log('CONNECTION_METRICS', {
      activeConnections: active,
      peakConnections: (await this.metrics.connectionsPeak.get()).values[0]?.value ?? 0,
      capacity,
      attempts: delta.attempts,
      failures: delta.failures,
      failureRate: round(failureRate),
      authSuccessRate: round(authSuccessRate),
      avgConnectionDurationSec: round(await this.averageDuration()),
      rssBytes: rss,
    });
    if (active >= capacity * THRESHOLDS.connectionUsage) {
      this.security.log('HIGH_CONNECTION_USAGE', { activeConnections: active, capacity, usage: round(active / capacity) });
    }
    if (delta.attempts > 0 && failureRate > THRESHOLDS.connectionFailureRate) {
      this.security.log('HIGH_CONNECTION_FAILURE_RATE', { attempts: delta.attempts, failures: delta.failures, failureRate: round(failureRate) });
    }
    if (authAttempts > 0 && authSuccessRate < THRESHOLDS.authSuccessRate) {
      this.alert('AUTH_SUCCESS_RATE_LOW', { authSuccessRate: round(authSuccessRate), attempts: authAttempts });
    }
    if (rss !== null && this.memoryBaseline !== undefined && rss > this.memoryBaseline * THRESHOLDS.memoryGrowth) {
      this.alert('MEMORY_GROWTH', { rssBytes: rss, baselineBytes: this.memoryBaseline, growth: round(rss / this.memoryBaseline) });
    }
  }

  /** Rollback triggers, for alerting on logs. */
  private alert(alert: string, fields: Record<string, unknown>): void {
    this.logger.warn({ alert, ...fields }, 'ALERT');
  }

  private async totals(): Promise<Totals> {
    const sum = async (metric: { get(): Promise<{ values: { value: number; labels: Record<string, string | number | undefined> }[] }> }, filter?: (labels: Record<string, string | number | undefined>) => boolean): Promise<number> =>
      (await metric.get()).values.filter((v) => !filter || filter(v.labels)).reduce((total, v) => total + v.value, 0);
    return {
      attempts: await sum(this.metrics.connectionAttempts),
      failures: await sum(this.metrics.connectionFailures),
      authSuccess: await sum(this.metrics.securityEvents, (labels) => labels.event === 'AUTHENTICATION_SUCCESS'),
      authFailures: await sum(this.metrics.securityEvents, (labels) => labels.event === 'AUTHENTICATION_FAILED'),
    };
  }

  /** Mean lifetime of closed connections: histogram sum over count. */
  private async averageDuration(): Promise<number> {
    const values = (await this.metrics.connectionDuration.get()).values;
    const sum = values.filter((v) => v.metricName?.endsWith('_sum')).reduce((total, v) => total + v.value, 0);
    const count = values.filter((v) => v.metricName?.endsWith('_count')).reduce((total, v) => total + v.value, 0);
    return count > 0 ? sum / count : 0;
  }
}

/**
 * The process's RSS, or null when it cannot be read: Node reads it from /proc, which needs a file
 * descriptor, and at the open-file limit (a connection flood) there is none. It threw EMFILE
 * there, and the tick's rejection ended the process.
 */
function residentSetBytes(): number | null {
  try {
    return process.memoryUsage.rss();
  } catch {
    return null;
  }
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
