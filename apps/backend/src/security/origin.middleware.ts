import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { clientIp } from '../common/client-ip.js';
import { ApiError } from '../common/errors/api-error.js';
import { OriginPolicy } from './origin-policy.js';
import { SecurityEventLogger } from './security-event.logger.js';

/** HTTP and SSE: a request from a disallowed Origin is refused outright, not merely denied CORS headers. */
@Injectable()
export class OriginMiddleware implements NestMiddleware {
  constructor(
    private readonly policy: OriginPolicy,
    private readonly security: SecurityEventLogger,
  ) {}

  use(request: Request, response: Response, next: NextFunction): void {
    const origin = request.headers.origin;
    if (this.policy.isAllowed(origin)) {
      next();
      return;
    }
    // originalUrl: under a wildcard route `path` is relative to the match.
    const transport = request.originalUrl.split('?')[0].endsWith('/notifications/stream') ? 'sse' : 'http';
    this.security.log('ORIGIN_REJECTED', { ip: clientIp(request), origin, transport, reason: 'not in allowlist' }, request);
    const error = new ApiError(403, 'ORIGIN_NOT_ALLOWED');
    response.status(403).json(error.getResponse());
  }
}
