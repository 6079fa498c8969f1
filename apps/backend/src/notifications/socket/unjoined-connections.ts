import type { IncomingMessage } from 'node:http';
import type { Server } from 'socket.io';
import { peerAddress } from '../../common/client-ip.js';
import type { SecurityEventLogger } from '../../security/security-event.logger.js';

/** What this module uses of an engine.io connection. */
interface EngineConnection {
  request: IncomingMessage;
  readyState: string;
  once(event: 'close', listener: (reason: string) => void): void;
  off(event: 'close', listener: (reason: string) => void): void;
  close(discard?: boolean): void;
}

export interface UnjoinedConnectionOptions {
  /** The authentication deadline (WS_AUTH_TIMEOUT_MS). */
  authTimeoutMs: number;
  /** Unauthenticated engine connections one IP may hold at once. */
  maxPendingPerIp: number;
  trustedHops: number;
  security: SecurityEventLogger;
}

/**
 * engine.io connections that are not (or no longer) in the authenticated namespace hold a socket,
 * buffers and timers while counting against no cap. This bounds them:
 * - the authentication deadline closes them at once (`close(true)`: socket.io's own connect timer
 *   only asks politely, and a polling session then lingers up to 30 s waiting for a poll);
 * - socket.io's default namespace `/`, which would accept a socket without authentication and stop
 *   the clock, refuses everyone;
 * - a connection that leaves the namespace is closed rather than kept open uncounted;
 * - one IP may hold only so many unauthenticated connections at once.
 * Returns a check for engine.io's `allowRequest`.
 */
export function guardUnjoinedConnections(server: Server, namespace: string, options: UnjoinedConnectionOptions): (request: IncomingMessage) => boolean {
  server.of('/').use((_socket, next) => next(new Error('UNAUTHORIZED')));

  // Until it joins: what ends the connection's deadline. Nothing of this guard is kept per socket after that.
  const onJoin = new WeakMap<object, () => void>();
  const pendingPerIp = new Map<string, number>();
  const settle = (ip: string): void => {
    const left = (pendingPerIp.get(ip) ?? 1) - 1;
    if (left <= 0) pendingPerIp.delete(ip);
    else pendingPerIp.set(ip, left);
  };

  server.of(namespace).on('connection', (socket) => {
    onJoin.get(socket.conn)?.();
    // One function for every socket (socket.io calls it with the socket as `this`): no closure per socket.
    socket.on('disconnect', closeTransportOnLeave);
  });

  server.engine.on('connection', (connection: EngineConnection) => {
    const ip = peerAddress(connection.request, options.trustedHops);
    pendingPerIp.set(ip, (pendingPerIp.get(ip) ?? 0) + 1);
    let deadline: NodeJS.Timeout | undefined = setTimeout(() => {
      if (connection.readyState !== 'open') return;
      const origin = connection.request.headers.origin;
      options.security.log('AUTHENTICATION_TIMEOUT', {
        ip,
        origin: typeof origin === 'string' ? origin : undefined,
        reason: `no authenticated namespace within ${options.authTimeoutMs} ms`,
      });
      connection.close(true);
    }, options.authTimeoutMs);
    deadline.unref();
    // Joined or gone: the deadline and the pending count no longer apply, and nothing here is kept.
    const settled = (): void => {
      if (deadline === undefined) return;
      clearTimeout(deadline);
      deadline = undefined;
      settle(ip);
      onJoin.delete(connection);
      connection.off('close', settled);
    };
    onJoin.set(connection, settled);
    connection.once('close', settled);
  });

  return (request) => (pendingPerIp.get(peerAddress(request, options.trustedHops)) ?? 0) < options.maxPendingPerIp;
}

/** Leaving the namespace (the client's own disconnect) leaves an engine connection no cap counts: close it. */
function closeTransportOnLeave(this: { conn: EngineConnection }, reason: string): void {
  if (reason === 'client namespace disconnect' && this.conn.readyState === 'open') this.conn.close(true);
}
