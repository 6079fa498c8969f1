import type { Params } from 'nestjs-pino';
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { AppConfig } from '../config/app-config.js';
import { REQUEST_SERIALIZERS } from './request-log.js';

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

/** The gateway's one root logger: JSON lines (or pretty ones), credentials redacted. */
export function createRootLogger(config: AppConfig, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level: config.logLevel,
    formatters: { level: (label: string) => ({ level: label }) },
    redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
    serializers: REQUEST_SERIALIZERS,
  };
  // A capture stream (tests) takes the JSON lines as they are.
  if (config.logFormat === 'pretty' && !destination) return pino({ ...options, transport: PRETTY });
  return destination ? pino(options, destination) : pino(options);
}

/**
 * nestjs-pino's Logger and PinoLogger write through the root logger. Its own request middleware
 * (pino-http, then AsyncLocalStorage.run per request) is mounted on no route: RequestLogMiddleware
 * (observability/request-log.ts) writes the request ids and request lines instead.
 */
export function loggerOptions(root: Logger): Params {
  return { pinoHttp: { logger: root }, forRoutes: [] };
}
