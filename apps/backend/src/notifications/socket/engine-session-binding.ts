import type { IncomingMessage } from 'node:http';
import { peerAddress } from '../../common/client-ip.js';
import type { OriginPolicy } from '../../security/origin-policy.js';

/** What this module uses of an engine.io connection: the request that opened it. */
interface EngineConnection {
  request: IncomingMessage;
}

/** engine.io's own table of open sessions, by id. */
interface EngineServer {
  clients: Record<string, EngineConnection | undefined>;
}

export type SessionRefusal = 'origin' | 'peer';

/**
 * An engine.io session id is a bearer credential on polling (it travels in every URL) and on the
 * upgrade. So a request that names a session must come from an allowed Origin (not only the
 * handshake) and from the peer address (per TRUST_PROXY) that opened the session. Returns the
 * check for those requests; null for requests that name no session or pass.
 */
export function bindSessionsToPeers(engine: EngineServer, origins: OriginPolicy, trustedHops: number): (request: IncomingMessage) => SessionRefusal | null {
  // The opening peer is read from engine.io's session table when a request names the session:
  // nothing is kept per connection here (no map entry, no 'close' listener).
  return (request) => {
    const sid = sessionIdOf(request);
    if (sid === undefined) return null;
    if (!origins.isAllowed(request.headers.origin)) return 'origin';
    const opener = engine.clients[sid];
    const peer = opener && peerAddress(opener.request, trustedHops);
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
