import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import type { AppConfig } from '../config/app-config.js';
import type { IncomingMessage } from 'node:http';
import { MetricsService } from '../observability/metrics.service.js';
import { requestLog } from '../observability/request-log.js';
import type { SecurityEvent, SecurityEventFields } from './security-events.js';
import { SecurityLogSampler } from './security-log-sampler.js';

const LOG_CONTEXT = 'Security';

/** How often a summary of the lines sampling dropped is written (only when some were). */
const SUMMARY_INTERVAL_MS = 10_000;

const WARN_EVENTS = new Set<SecurityEvent>([
  'AUTHENTICATION_FAILED',
  'AUTHENTICATION_TIMEOUT',
  'ORIGIN_REJECTED',
  'ROOM_ASSIGNMENT_FAILED',
  'UNAUTHORIZED_ACCESS_ATTEMPT',
  'RATE_LIMIT_EXCEEDED',
  'CONNECTION_LIMIT_EXCEEDED',
  'SECURITY_VIOLATION',
  'HIGH_CONNECTION_USAGE',
  'HIGH_CONNECTION_FAILURE_RATE',
]);

/**
 * One JSON line per security event: `"msg":"SECURITY"`, `"event"`, and who/where. Repeats of
 * one event from one peer and principal are sampled past a burst (a flood must not become a
 * flood of log lines); every event is still counted, dropped lines are counted by event, and a
 * `SECURITY_SUMMARY` line says every SUMMARY_INTERVAL_MS what was dropped and from where.
 */
@Injectable()
export class SecurityEventLogger implements OnModuleInit, OnModuleDestroy {
  private readonly sampler: SecurityLogSampler;
  private summaryTimer?: NodeJS.Timeout;

  constructor(
    @InjectPinoLogger(LOG_CONTEXT) private readonly logger: PinoLogger,
    private readonly metrics: MetricsService,
    config: ConfigService<AppConfig, true>,
  ) {
    const abuse = config.get('abuse', { infer: true });
    this.sampler = new SecurityLogSampler(abuse.securityLogBurst, abuse.securityLogRatePerSec);
  }

  onModuleInit(): void {
    this.summaryTimer = setInterval(() => this.summarize(), SUMMARY_INTERVAL_MS).unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.summaryTimer);
    this.summarize();
  }

  /** `request`: the HTTP request the event happened in, when the caller holds it; its line then carries `req`. */
  log(event: SecurityEvent, fields: SecurityEventFields = {}, request?: IncomingMessage): void {
    this.metrics.securityEvents.inc({ event });
    this.countByKind(event, fields);
    // The reason is part of what repeats: a flood repeats one, while distinct reasons (a bounded set
    // the server chooses) are distinct findings an operator must see.
    if (!this.sampler.admit(`${event}|${fields.ip ?? ''}|${fields.userId ?? ''}|${fields.reason ?? ''}`)) {
      this.metrics.securityLogDropped.inc({ event });
      return;
    }
    const line = { event, ...fields, origin: sanitizeOrigin(fields.origin) };
    const warn = WARN_EVENTS.has(event);
    const inRequest = requestLog(request);
    if (inRequest) {
      // As PinoLogger writes it (context first), through the request's logger.
      if (warn) inRequest.warn({ context: LOG_CONTEXT, ...line }, 'SECURITY');
      else inRequest.info({ context: LOG_CONTEXT, ...line }, 'SECURITY');
    } else if (warn) this.logger.warn(line, 'SECURITY');
    else this.logger.info(line, 'SECURITY');
  }

  /** Writes what sampling dropped since the last summary, if anything. */
  summarize(): void {
    const dropped = this.sampler.drain();
    if (dropped.total === 0) return;
    this.logger.warn({ dropped: dropped.total, top: dropped.top, windowMs: SUMMARY_INTERVAL_MS }, 'SECURITY_SUMMARY');
  }

  /** The per-kind counters operators alert on, derived here so every caller counts the same way. */
  private countByKind(event: SecurityEvent, fields: SecurityEventFields): void {
    const transport = fields.transport ?? 'unknown';
    if (event === 'AUTHENTICATION_FAILED') this.metrics.authFailures.inc({ transport, reason: fields.reason ?? 'unknown' });
    else if (event === 'ORIGIN_REJECTED') this.metrics.originRejections.inc({ transport });
    else if (event === 'RATE_LIMIT_EXCEEDED') this.metrics.rateLimitHits.inc({ limit: fields.reason ?? 'unknown' });
  }
}

/** Origins are attacker-chosen: bound their length and strip control characters before logging. */
function sanitizeOrigin(origin: string | undefined): string | undefined {
  if (origin === undefined) return undefined;
  return origin.replace(/[\u0000-\u001f\u007f]/g, '?').slice(0, 200);
}
