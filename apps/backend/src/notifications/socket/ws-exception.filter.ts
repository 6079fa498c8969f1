import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import { EVENT_ERROR_CODES, GENERIC_ERROR_MESSAGE, type AckFailure, type ErrorBody, type EventErrorCode } from '@notify-gateway/contracts';
import type { GatewaySocket } from './gateway-socket.js';
import { SocketEventBudget } from './socket-event-budget.js';
import { SecurityEventLogger } from '../../security/security-event.logger.js';
import { ApiError } from '../../common/errors/api-error.js';
import { isDatabaseUnavailable } from '../../common/errors/database-unavailable.js';

/**
 * What the filter returns: the error is answered. Nest's context for shared handlers
 * (shared-gateway-handlers.ts) rethrows, and logs, after a filter that returns nothing;
 * NotificationsIoAdapter sends nothing more for this.
 */
export const HANDLED_BY_FILTER: unique symbol = Symbol('handled by WsExceptionFilter');

/**
 * Socket errors: the client gets `notification:error` and a failed ack with a stable code and a
 * generic message; operators get the details (clientId, userId, stack) in the log.
 */
@Catch()
export class WsExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('NotificationGateway');

  constructor(
    private readonly security: SecurityEventLogger,
    private readonly budget: SocketEventBudget,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): typeof HANDLED_BY_FILTER {
    const ws = host.switchToWs();
    const socket = ws.getClient<GatewaySocket>();
    const ack = host.getArgByIndex<unknown>(2);
    const event = host.getArgByIndex<unknown>(3);
    const body = toBody(exception);
    const user = socket.data?.user;

    if (body.code === 'VALIDATION_FAILED') {
      this.security.log('VALIDATION_FAILED', { clientId: socket.id, userId: user?.userId, tenantId: user?.tenantId, reason: String(event) });
    } else if (body.code === 'INTERNAL_ERROR') {
      this.logger.error({ err: exception, clientId: socket.id, userId: user?.userId, event: String(event) }, 'socket event failed');
    } else if (body.code === 'SERVICE_UNAVAILABLE' && !(exception instanceof ApiError)) {
      this.logger.warn({ err: exception, clientId: socket.id, userId: user?.userId, event: String(event) }, 'socket event failed: database unreachable');
    }
    socket.emit('notification:error', body);
    if (typeof ack === 'function') {
      const failure: AckFailure = { ok: false, error: body };
      (ack as (response: AckFailure) => void)(failure);
    }
    // A refused privileged event spends the session's refusal allowance (docs/SECURITY.md, socket abuse finding 2).
    if (body.code === 'FORBIDDEN' && user) this.budget.noteRefusal(socket, `forbidden ${String(event)}`);
    return HANDLED_BY_FILTER;
  }
}

function toBody(exception: unknown): ErrorBody {
  if (exception instanceof ApiError && (EVENT_ERROR_CODES as readonly string[]).includes(exception.code)) {
    return { code: exception.code as EventErrorCode, message: exception.message, ...(exception.errors ? { errors: exception.errors } : {}) };
  }
  // As the HTTP filter answers 503: the client is told to come back, not that something broke.
  if (isDatabaseUnavailable(exception)) return { code: 'SERVICE_UNAVAILABLE', message: ApiError.defaultMessage('SERVICE_UNAVAILABLE') };
  return { code: 'INTERNAL_ERROR', message: GENERIC_ERROR_MESSAGE };
}
