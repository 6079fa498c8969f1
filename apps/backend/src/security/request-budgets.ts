import { Injectable, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { IncomingMessage } from 'node:http';
import type { AppConfig, HttpBudgetsConfig } from '../config/app-config.js';
import { ApiError } from '../common/errors/api-error.js';
import { MetricsService } from '../observability/metrics.service.js';
import { RateLimiterFactory, type RateLimit, type RateLimitDecision } from './rate-limiter.factory.js';
import { SecurityEventLogger } from './security-event.logger.js';
import type { SecurityEventFields } from './security-events.js';

/** The REST and SSE budgets, by name (HTTP_RATE_LIMIT_* in the configuration table). */
export type BudgetName = Exclude<keyof HttpBudgetsConfig, 'windowSec'>;

const LIMIT_NAMES: Record<BudgetName, string> = {
  create: 'http-create',
  read: 'http-read',
  mark: 'http-mark',
  readAll: 'http-read-all',
  streamTicket: 'sse-ticket',
  streamConnect: 'sse-connect',
  streamReplay: 'sse-replay',
};

/**
 * Per-user request budgets of the REST and SSE routes, cluster-wide like the socket limiter.
 * A refusal is a 429 with Retry-After; it is logged once per window and key (the refusal that
 * crossed the limit), and every refusal is counted in notify_rate_limit_hits_total.
 */
@Injectable()
export class RequestBudgets implements OnModuleInit {
  private readonly limits = new Map<BudgetName, RateLimit>();

  constructor(
    private readonly config: ConfigService<AppConfig, true>,
    private readonly limiters: RateLimiterFactory,
    private readonly security: SecurityEventLogger,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    const budgets = this.config.get('httpBudgets', { infer: true });
    for (const name of Object.keys(LIMIT_NAMES) as BudgetName[]) {
      this.limits.set(name, this.limiters.create(LIMIT_NAMES[name], budgets[name], budgets.windowSec));
    }
  }

  /** Spends one point of `budget` for `key` (a user id, or `ip:<address>`); throws the 429 when none is left. */
  async spend(budget: BudgetName, key: string, fields: SecurityEventFields, request?: IncomingMessage): Promise<void> {
    const limit = this.limits.get(budget);
    if (!limit) throw new Error(`no budget ${budget}`);
    const decision = await limit.consume(key);
    if (!decision.allowed) throw this.refusal(limit.name, decision, fields, request);
  }

  /** The 429 for a refused decision of any limit, logged once per window and key. */
  refusal(limit: string, decision: Extract<RateLimitDecision, { allowed: false }>, fields: SecurityEventFields, request?: IncomingMessage): ApiError {
    if (decision.firstInWindow) this.security.log('RATE_LIMIT_EXCEEDED', { ...fields, reason: limit, retryAfter: decision.retryAfterSec }, request);
    else this.metrics.rateLimitHits.inc({ limit });
    return new ApiError(429, 'RATE_LIMITED', undefined, undefined, decision.retryAfterSec);
  }
}
