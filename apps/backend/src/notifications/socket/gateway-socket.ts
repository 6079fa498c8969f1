import type { ClientToServerEvents, ServerToClientEvents } from '@notify-gateway/contracts';
import type { Namespace, Socket } from 'socket.io';
import type { AuthenticatedUser } from '../../auth/authenticated-user.js';
import type { ConnectionLease } from '../../security/connection-limiter.js';

/** What the handshake middleware attaches to an authenticated socket. */
export interface SocketSession {
  user: AuthenticatedUser;
  lease: ConnectionLease;
  ip: string;
  origin?: string;
  /** Events refused on this socket (rate limit, role): SocketEventBudget ends the session past WS_MAX_REFUSALS. */
  refusals?: number;
}

type ServerSideEvents = {};
export type GatewaySocket = Socket<ClientToServerEvents, ServerToClientEvents, ServerSideEvents, SocketSession>;
export type GatewayNamespace = Namespace<ClientToServerEvents, ServerToClientEvents, ServerSideEvents, SocketSession>;
