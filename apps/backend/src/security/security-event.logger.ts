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
    const line = { event, ...fields, origin: sanitizeOrigin(fields.origin) };
    if (WARN_EVENTS.has(event)) this.logger.warn(line, 'SECURITY');
    else this.logger.info(line, 'SECURITY');
  }
}

/** Origins are attacker-chosen: bound their length and strip control characters before logging. */
function sanitizeOrigin(origin: string | undefined): string | undefined {
  if (origin === undefined) return undefined;
  return origin.replace(/[\u0000-\u001f\u007f]/g, '?').slice(0, 200);
}
