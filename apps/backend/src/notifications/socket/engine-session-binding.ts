import type { IncomingMessage } from 'node:http';
import { peerAddress } from '../../common/client-ip.js';
import type { OriginPolicy } from '../../security/origin-policy.js';

/** What this module uses of an engine.io connection. */
interface EngineConnection {
  id: string;
  request: IncomingMessage;
  on(event: 'close', listener: (this: EngineConnection) => void): void;
}

interface EngineServer {
  on(event: 'connection', listener: (connection: EngineConnection) => void): void;
}

export type SessionRefusal = 'origin' | 'peer';

/**
 * An engine.io session id is a bearer credential on polling (it travels in every URL) and on the
 * upgrade. So a request that names a session must come from an allowed Origin (not only the
 * handshake) and from the peer address (per TRUST_PROXY) that opened the session. Returns the
 * check for those requests; null for requests that name no session or pass.
 */
export function bindSessionsToPeers(engine: EngineServer, origins: OriginPolicy, trustedHops: number): (request: IncomingMessage) => SessionRefusal | null {
  const peers = new Map<string, string>();
  // One function for every connection (engine.io calls it with the connection as `this`): no closure per connection.
  const forget = function (this: EngineConnection): void {
    peers.delete(this.id);
  };
  engine.on('connection', (connection) => {
    peers.set(connection.id, peerAddress(connection.request, trustedHops));
    connection.on('close', forget);
  });
  return (request) => {
    const sid = sessionIdOf(request);
    if (sid === undefined) return null;
    if (!origins.isAllowed(request.headers.origin)) return 'origin';
    const peer = peers.get(sid);
    // An unknown sid is engine.io's to answer (400 "Session ID unknown"), as it answers a peer mismatch here.
    if (peer !== undefined && peer !== peerAddress(request, trustedHops)) return 'peer';
    return null;
  };
}

function sessionIdOf(request: IncomingMessage): string | undefined {
  const query = (request.url ?? '').split('?')[1];
  if (query === undefined) return undefined;
  const sid = new URLSearchParams(query).get('sid');
  return sid === null || sid === '' ? undefined : sid;
}
