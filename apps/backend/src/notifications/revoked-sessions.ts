import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { TokenRevocations, type Revocation } from '../auth/token-revocations.js';
import { NotificationFanout, type SessionMatch } from './notification-fanout.js';

/**
 * Ends the live sessions (sockets and streams) a revocation refuses, on whichever instance
 * learns of it: TokenRevocations hears of every revocation on every instance by itself.
 */
@Injectable()
export class RevokedSessions implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(RevokedSessions.name);
  private unsubscribe?: () => void;

  constructor(
    private readonly revocations: TokenRevocations,
    private readonly fanout: NotificationFanout,
  ) {}

  onModuleInit(): void {
    this.unsubscribe = this.revocations.onRevoked((revocation) => this.end(revocation));
  }

  onApplicationShutdown(): void {
    this.unsubscribe?.();
  }

  private end(revocation: Revocation): void {
    const match: SessionMatch =
      revocation.kind === 'token' ? (user) => user.jti === revocation.jti : (user) => user.iat === undefined || user.iat < revocation.notBefore;
    this.logger.log({ userId: revocation.userId, kind: revocation.kind }, 'ending revoked sessions');
    this.fanout.endLocalSessions(revocation.userId, (revocation.kind === 'user' ? revocation.endCode : undefined) ?? 'TOKEN_REVOKED', match);
  }
}
