import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { GENERIC_ERROR_MESSAGE, type HttpErrorBody, type HttpErrorCode } from '@notify-gateway/contracts';
import { ApiError, isDeliberateRefusal } from '../errors/api-error.js';
import { isDatabaseUnavailable } from '../errors/database-unavailable.js';
import { requestLog } from '../../observability/request-log.js';

const CODE_BY_STATUS: Record<number, HttpErrorCode> = {
  400: 'VALIDATION_FAILED',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'NOT_FOUND',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  503: 'SERVICE_UNAVAILABLE',
};

/**
 * Every HTTP error leaves as `{statusCode, code, message}`. Only ApiError messages reach the
 * client; anything else gets the generic text for its status, and 5xx details go to the log.
 */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(HttpExceptionFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') return;
    const response = host.switchToHttp().getResponse<Response>();
    const request = host.switchToHttp().getRequest<Request>();
    const body = this.toBody(exception);
    if (isDeliberateRefusal(exception)) {
      this.log(request, 'warn', { code: body.code, method: request.method, path: request.path, retryAfter: exception.retryAfter }, 'request refused for now');
    } else if (body.statusCode >= 500) {
      this.log(request, 'error', { err: exception, method: request.method, path: request.path }, 'request failed');
    }
    if (exception instanceof ApiError && exception.retryAfter !== undefined) {
      response.setHeader('Retry-After', String(exception.retryAfter));
    }
    if (response.headersSent) {
      response.end();
      return;
    }
    response.status(body.statusCode).json(body);
  }

  /** In the request's own log when it has one (its id and context), else the app's. */
  private log(request: Request, level: 'warn' | 'error', line: Record<string, unknown>, message: string): void {
    const inRequest = requestLog(request);
    if (inRequest) inRequest[level]({ context: HttpExceptionFilter.name, ...line }, message);
    else this.logger[level](line, message);
  }

  private toBody(exception: unknown): HttpErrorBody {
    if (exception instanceof ApiError) {
      return exception.getResponse() as HttpErrorBody;
    }
    // Nothing was stored: tell the client to retry rather than that something broke.
    if (isDatabaseUnavailable(exception)) {
      return { statusCode: 503, code: 'SERVICE_UNAVAILABLE', message: ApiError.defaultMessage('SERVICE_UNAVAILABLE') };
    }
    // Body-parser and friends throw plain errors that carry a status.
    const status = exception instanceof HttpException ? exception.getStatus() : statusOf(exception);
    const code = CODE_BY_STATUS[status];
    if (status < 500) {
      const clientCode = code ?? 'VALIDATION_FAILED';
      return { statusCode: status, code: clientCode, message: ApiError.defaultMessage(clientCode) };
    }
    if (status === 503) return { statusCode: 503, code: 'SERVICE_UNAVAILABLE', message: ApiError.defaultMessage('SERVICE_UNAVAILABLE') };
    return { statusCode: 500, code: 'INTERNAL_ERROR', message: GENERIC_ERROR_MESSAGE };
  }
}

function statusOf(exception: unknown): number {
  if (exception && typeof exception === 'object') {
    const status = (exception as { status?: unknown; statusCode?: unknown }).status ?? (exception as { statusCode?: unknown }).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 600) return status;
  }
  return 500;
}
