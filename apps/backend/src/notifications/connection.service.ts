import { Injectable } from '@nestjs/common';
import type { SessionEndCode } from '@notify-gateway/contracts';
import { TokenRevocations } from '../auth/token-revocations.js';
import { canonicalId } from '../common/canonical-id.js';
import { NotificationFanout } from './notification-fanout.js';

export interface DisconnectOptions {
  /**
   * Also refuse every token of the user issued before now (a per-user not-before time, on
   * every instance), so the user cannot come straight back with the token it holds. Sessions
   * end with TOKEN_REVOKED (or `reason`). A fresh login works.
   */
  revokeTokens?: boolean;
  /** What the sessions are told; default USER_DISCONNECTED, or TOKEN_REVOKED with revokeTokens. */
  reason?: SessionEndCode;
}

/**
 * For other modules: end a user's live sessions (sockets and streams) on every instance, and
 * optionally the tokens they hold. Ending sessions is all it does; letting a connection in is
 * ConnectionAdmission's (admission/connection-admission.ts). The name is the public API's.
 */
@Injectable()
export class ConnectionService {
  constructor(
    private readonly fanout: NotificationFanout,
    private readonly revocations: TokenRevocations,
  ) {}

  /** Call when a user is deactivated or must re-authenticate. */
  disconnectUser(userId: string, reason?: SessionEndCode): void;
  /** Resolves once the revocation is stored and shared (rejects when Redis cannot take it). */
  disconnectUser(userId: string, options: DisconnectOptions): Promise<void>;
  disconnectUser(id: string, reasonOrOptions: SessionEndCode | DisconnectOptions = 'USER_DISCONNECTED'): void | Promise<void> {
    const userId = canonicalId(id);
    if (typeof reasonOrOptions === 'string') {
      this.fanout.endUserSessions(userId, reasonOrOptions);
      return;
    }
    if (!reasonOrOptions.revokeTokens) {
      this.fanout.endUserSessions(userId, reasonOrOptions.reason ?? 'USER_DISCONNECTED');
      return Promise.resolve();
    }
    return this.revokeAndDisconnect(userId, reasonOrOptions.reason ?? 'TOKEN_REVOKED');
  }

  /** Refuses every token of the user issued before now, on every instance (e.g. for an identity provider's tokens). */
  async revokeUserTokens(userId: string): Promise<void> {
    await this.revocations.revokeUser(canonicalId(userId));
  }

  /** Refuses one token by its id until `exp` (epoch seconds), on every instance. */
  async revokeToken(userId: string, jti: string, exp: number): Promise<void> {
    await this.revocations.revokeToken(canonicalId(userId), jti, exp);
  }

  private async revokeAndDisconnect(userId: string, code: SessionEndCode): Promise<void> {
    try {
      // Every instance ends the refused sessions when it hears of the revocation.
      await this.revocations.revokeUser(userId, code);
    } finally {
      // And through the adapter as well, so sessions end even when Redis refused the write.
      this.fanout.endUserSessions(userId, code);
    }
  }
}
