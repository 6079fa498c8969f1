import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { ExtendedError } from 'socket.io';
import { bearerToken } from '../../auth/bearer-token.js';
import { TokenVerifier } from '../../auth/token-verifier.js';
import { peerAddress } from '../../common/client-ip.js';
import type { AppConfig } from '../../config/app-config.js';
import type { ConnectionLease } from '../../security/connection-limiter.js';
import { SecurityEventLogger } from '../../security/security-event.logger.js';
import { ConnectionAdmission } from '../admission/connection-admission.js';
import { EngineAdmission } from './engine-admission.js';
import type { GatewaySocket } from './gateway-socket.js';

/**
 * Namespace middleware: runs before a socket joins the namespace, so an unauthenticated socket
 * never exists. ConnectionAdmission decides; this carries the handshake in and the answer out
 * (a contract code in `connect_error`, or the session on `socket.data`).
 */
@Injectable()
export class HandshakeAuthenticator {
  private readonly trustedHops: number;

  constructor(
    private readonly admission: ConnectionAdmission,
    private readonly verifier: TokenVerifier,
    private readonly engine: EngineAdmission,
    private readonly security: SecurityEventLogger,
    config: ConfigService<AppConfig, true>,
  ) {
    this.trustedHops = config.get('trustProxyHops', { infer: true });
  }

  async authenticate(socket: GatewaySocket, next: (error?: ExtendedError) => void): Promise<void> {
    const ip = peerAddress(socket.request, this.trustedHops);
    const origin = socket.handshake.headers.origin;
    const result = await this.admission.admit({
      transport: 'websocket',
      // engine.io's allowRequest already refused foreign origins; admission covers the namespace too.
      origin,
      // The engine handshake spent the connect rate (EngineAdmission).
      peer: { ip, clientId: socket.id, overConnectRate: this.engine.isOverRate(socket.request) },
      credential: () => this.verifier.verify(handshakeToken(socket)),
    });
    if (!result.admitted) {
      next(new Error(result.code));
      // Over the connect rate: nothing more this connection may do; close once the answer is out.
      if (result.reason === 'connect-rate') setImmediate(() => socket.conn.close());
      return;
    }
    const { user, lease } = result;
    // The token has served: a socket keeps its verified claims (socket.data.user), not the credential.
    socket.handshake.auth = NO_AUTH;
    // The connection may have closed while this was authenticating, or close before socket.io's
    // connect (a tick later), and then no disconnect ever comes: the lease must not leak. A turn
    // is enough because this is the namespace's last middleware (no listener kept per connection).
    setImmediate(releaseUnlessConnected, socket, lease);
    socket.data = { user, lease, ip, origin };
    // WEBSOCKET_CONNECT follows once the rooms are joined (NotificationGateway), carrying them.
    this.security.log('AUTHENTICATION_SUCCESS', { clientId: socket.id, ip, origin, transport: 'websocket', userId: user.userId, tenantId: user.tenantId });
    next();
  }
}

const NO_AUTH: Record<string, never> = Object.freeze({});

/** After the connect (or its refusal): a socket that is not connected is one no disconnect will release. */
function releaseUnlessConnected(socket: GatewaySocket, lease: ConnectionLease): void {
  if (!socket.connected) lease.release();
}

/** `auth.token`, or an `Authorization: Bearer` header; never the query string. */
function handshakeToken(socket: GatewaySocket): string | undefined {
  const auth: unknown = socket.handshake.auth;
  if (auth && typeof auth === 'object' && 'token' in auth && typeof auth.token === 'string') return auth.token;
  return bearerToken(socket.handshake.headers.authorization);
}
