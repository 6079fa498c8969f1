import { Injectable } from '@nestjs/common';
import type { SessionEndCode } from '@notify-gateway/contracts';
import { NotificationFanout } from './notification-fanout.js';

/** For other modules: end a user's live sessions (sockets and streams) on every instance. */
@Injectable()
export class ConnectionService {
  constructor(private readonly fanout: NotificationFanout) {}

  /** Call when a user is deactivated or must re-authenticate. */
  disconnectUser(userId: string, reason: SessionEndCode = 'USER_DISCONNECTED'): void {
    this.fanout.endUserSessions(userId, reason);
  }
}
