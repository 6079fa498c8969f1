import type { IncomingMessage } from 'node:http';

/** An Express request: `ip` already honours the app's `trust proxy` setting. */
export function clientIp(request: IncomingMessage & { ip?: string }): string {
  return request.ip ?? request.socket.remoteAddress ?? 'unknown';
}

/**
 * The client address of a raw request (a socket.io handshake), with the same rule Express applies
 * for a numeric `trust proxy`: believe X-Forwarded-For for `trustedHops` proxies and no further,
 * so a client cannot choose its own rate-limit key by sending the header itself.
 */
export function peerAddress(request: IncomingMessage, trustedHops: number): string {
  const direct = request.socket.remoteAddress ?? 'unknown';
  if (trustedHops === 0) return direct;
  const header = request.headers['x-forwarded-for'];
  const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((address) => address.trim())
    .filter(Boolean)
    .reverse();
  const chain = [direct, ...forwarded];
  return chain[Math.min(trustedHops, chain.length - 1)];
}
