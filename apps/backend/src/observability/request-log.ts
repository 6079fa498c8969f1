import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';

/** Injection token of the gateway's root pino logger (observability/logger.options.ts makes it). */
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
/** Probes are not request-logged (they still get a request id). */
const NOT_LOGGED = /^\/(health|metrics)(\/|$)/;

const REQUEST_LOGGER = Symbol('requestLogger');

/** pino-http (under nestjs-pino) types `IncomingMessage.id` for every module; this middleware sets it. */
interface LoggedRequest extends IncomingMessage {
  [REQUEST_LOGGER]?: RequestLogger;
}

/** A request's logger, made on first use: most requests log nothing at `warn` and above. */
class RequestLogger {
  private child: Logger | undefined;

  constructor(
    private readonly root: Logger,
    private readonly request: LoggedRequest,
  ) {}

  get logger(): Logger {
    this.child ??= this.root.child({ req: this.request });
    return this.child;
  }
}

/**
 * The logger of a request that passed RequestLogMiddleware: its lines carry `req` ({id, method,
 * path, remoteAddress}). Passed explicitly by the code that holds the request (guards, filters,
 * controllers), not found through AsyncLocalStorage: in Node 20 one `storage.run()` per request
 * turns on promise hooks for every promise of the process (docs/BENCHMARKS.md, section 6).
 */
export function requestLog(request: IncomingMessage | undefined): Logger | undefined {
  return (request as LoggedRequest | undefined)?.[REQUEST_LOGGER]?.logger;
}

/**
 * Request ids and request logs, as pino-http wrote them: a well-formed `X-Request-Id` is kept
 * (else a UUID), echoed in the response, and one line per finished request at `info`
 * (`{req, res, responseTime}`, message `METHOD /path STATUS`; with `err` at 5xx). Query strings
 * (SSE tickets) are never logged.
 */
@Injectable()
export class RequestLogMiddleware implements NestMiddleware {
  constructor(@Inject(ROOT_LOGGER) private readonly root: Logger) {}

  use(request: LoggedRequest, response: ServerResponse, next: () => void): void {
    const presented = request.headers['x-request-id'];
    const id = typeof presented === 'string' && REQUEST_ID.test(presented) ? presented : randomUUID();
    request.id = id;
    response.setHeader('X-Request-Id', id);
    const requestLogger = new RequestLogger(this.root, request);
    request[REQUEST_LOGGER] = requestLogger;
    if (this.root.isLevelEnabled('info') && !NOT_LOGGED.test(request.url ?? '')) this.logWhenDone(request, response, requestLogger);
    next();
  }

  private logWhenDone(request: LoggedRequest, response: ServerResponse, requestLogger: RequestLogger): void {
    const startedAt = Date.now();
    const done = (error?: unknown): void => {
      response.removeListener('close', done);
      response.removeListener('finish', done);
      response.removeListener('error', done);
      const responseTime = Date.now() - startedAt;
      const message = `${request.method} ${pathOf(request)} ${response.statusCode}`;
      if (error || response.statusCode >= 500) {
        requestLogger.logger.info({ res: response, err: error ?? new Error(`failed with status code ${response.statusCode}`), responseTime }, message);
      } else {
        requestLogger.logger.info({ res: response, responseTime }, message);
      }
    };
    response.on('close', done);
    response.on('finish', done);
    response.on('error', done);
  }
}

/** The path without the query string (SSE tickets travel there). */
export function pathOf(request: IncomingMessage & { originalUrl?: string }): string {
  return (request.originalUrl ?? request.url ?? '').split('?')[0] as string;
}

/** How `req` and `res` appear in a line. */
export const REQUEST_SERIALIZERS = {
  req: (request: LoggedRequest) => ({ id: request.id, method: request.method, path: pathOf(request), remoteAddress: request.socket?.remoteAddress }),
  res: (response: ServerResponse) => ({ statusCode: response.statusCode }),
};
