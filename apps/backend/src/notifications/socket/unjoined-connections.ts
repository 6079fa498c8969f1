import type { IncomingMessage } from 'node:http';
import type { Server } from 'socket.io';
import { peerAddress } from '../../common/client-ip.js';
import type { SecurityEventLogger } from '../../security/security-event.logger.js';

/** What this module uses of an engine.io connection. */
interface EngineConnection {
  id: string;
  request: IncomingMessage;
  readyState: string;
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

  // Until it joins or its deadline passes: each pending connection's deadline, by IP and engine
  // session id. No 'close' listener: a third one on an engine connection grows its listener array
  // for the connection's whole life (docs/BENCHMARKS.md, section 1). A connection that closes
  // unjoined is gone from engine.io's clients: skipped (and dropped) when counted, forgotten when
  // its deadline fires; only its id and timer are kept until then, never the connection.
  const engine = server.engine as unknown as { clients: Record<string, EngineConnection | undefined>; on(event: 'connection', listener: (connection: EngineConnection) => void): void };
  const pendingPerIp = new Map<string, Map<string, NodeJS.Timeout>>();
  const forget = (ip: string, sid: string): void => {
    const pending = pendingPerIp.get(ip);
    const deadline = pending?.get(sid);
    if (!pending || deadline === undefined) return;
    clearTimeout(deadline);
    pending.delete(sid);
    if (pending.size === 0) pendingPerIp.delete(ip);
  };
  const expire = (ip: string, sid: string): void => {
    forget(ip, sid);
    const connection = engine.clients[sid];
    if (connection?.readyState !== 'open') return;
    const origin = connection.request.headers.origin;
    options.security.log('AUTHENTICATION_TIMEOUT', {
      ip,
      origin: typeof origin === 'string' ? origin : undefined,
      reason: `no authenticated namespace within ${options.authTimeoutMs} ms`,
    });
    connection.close(true);
  };

  server.of(namespace).on('connection', (socket) => {
    const connection = socket.conn as unknown as EngineConnection;
    forget(peerAddress(connection.request, options.trustedHops), connection.id);
  });

  engine.on('connection', (connection) => {
    const ip = peerAddress(connection.request, options.trustedHops);
    const deadline = setTimeout(expire, options.authTimeoutMs, ip, connection.id);
    deadline.unref();
    let pending = pendingPerIp.get(ip);
    if (!pending) pendingPerIp.set(ip, (pending = new Map()));
    pending.set(connection.id, deadline);
  });

  return (request) => {
    const ip = peerAddress(request, options.trustedHops);
    const pending = pendingPerIp.get(ip);
    if (!pending) return true;
    for (const sid of [...pending.keys()]) if (!engine.clients[sid]) forget(ip, sid);
    return pending.size < options.maxPendingPerIp;
  };
}

/**
 * Leaving the namespace (the client's own disconnect) leaves an engine connection no cap counts:
 * close it. Called by the socket's one 'disconnect' listener (NotificationGateway).
 */
export function closeTransportOnLeave(socket: { conn: unknown }, reason: string): void {
  const connection = socket.conn as EngineConnection;
  if (reason === 'client namespace disconnect' && connection.readyState === 'open') connection.close(true);
}
