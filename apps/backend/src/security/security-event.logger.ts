import { Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { MetricsService } from '../observability/metrics.service.js';
import type { SecurityEvent, SecurityEventFields } from './security-events.js';

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

/** One JSON line per security event: `"msg":"SECURITY"`, `"event"`, and who/where. */
@Injectable()
export class SecurityEventLogger {
  constructor(
    @InjectPinoLogger('Security') private readonly logger: PinoLogger,
    private readonly metrics: MetricsService,
  ) {}

  log(event: SecurityEvent, fields: SecurityEventFields = {}): void {
    this.metrics.securityEvents.inc({ event });
    this.countByKind(event, fields);
    const line = { event, ...fields, origin: sanitizeOrigin(fields.origin) };
    if (WARN_EVENTS.has(event)) this.logger.warn(line, 'SECURITY');
    else this.logger.info(line, 'SECURITY');
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
