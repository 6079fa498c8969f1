import type { IncomingMessage } from 'node:http';

/**
 * The peer address. Behind a proxy, Express's `trust proxy` decides whether X-Forwarded-For
 * counts; raw sockets use the TCP peer so a client cannot choose its own rate-limit key.
 */
export function clientIp(request: IncomingMessage & { ip?: string }): string {
  return request.ip ?? request.socket.remoteAddress ?? 'unknown';
}
