import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import type { AppConfig } from '../config/app-config.js';

/** Paths pino blanks wherever they appear: no credential reaches a log line. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["set-cookie"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.token',
  '*.accessToken',
  '*.ticket',
  '*.authorization',
  '*.cookie',
  '*.secret',
  'password',
  'token',
  'accessToken',
  'ticket',
  'authorization',
];

/** LOG_FORMAT=pretty: one compact, readable line per entry (pino-pretty, in pino's worker thread). */
const PRETTY = {
  target: require.resolve('pino-pretty'),
  options: { singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,req.remoteAddress' },
};

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** JSON logs, one object a line; request ids; query strings (SSE tickets) never logged. */
export function loggerOptions(config: AppConfig, destination?: DestinationStream): Params {
  return {
    pinoHttp: {
      level: config.logLevel,
      formatters: { level: (label: string) => ({ level: label }) },
      // A capture stream (tests) takes the JSON lines as they are.
      ...(config.logFormat === 'pretty' && !destination ? { transport: PRETTY } : { stream: destination }),
      redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
      genReqId: (request: IncomingMessage, response: ServerResponse) => {
        const presented = request.headers['x-request-id'];
        const id = typeof presented === 'string' && REQUEST_ID.test(presented) ? presented : randomUUID();
        response.setHeader('X-Request-Id', id);
        return id;
      },
      serializers: {
        req: (request: { id: string; method: string; url: string; remoteAddress?: string }) => ({
          id: request.id,
          method: request.method,
          path: request.url.split('?')[0],
          remoteAddress: request.remoteAddress,
        }),
        res: (response: { statusCode: number }) => ({ statusCode: response.statusCode }),
      },
      autoLogging: {
        ignore: (request: IncomingMessage) => /^\/(health|metrics)(\/|$)/.test(request.url ?? ''),
      },
      // SSE responses stay open for hours: log them when they start, not only when they end.
      customSuccessMessage: (request: IncomingMessage, response: ServerResponse) =>
        `${request.method} ${(request.url ?? '').split('?')[0]} ${response.statusCode}`,
      customErrorMessage: (request: IncomingMessage, response: ServerResponse) =>
        `${request.method} ${(request.url ?? '').split('?')[0]} ${response.statusCode}`,
    },
  };
}
