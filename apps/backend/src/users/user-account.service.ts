import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/errors/api-error.js';
import { PrismaService } from '../core/prisma/prisma.service.js';
import { ConnectionService } from '../notifications/connection.service.js';

/** Account state changes that must take effect on live sessions too. */
@Injectable()
export class UserAccountService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly connections: ConnectionService,
  ) {}

  /** Deactivates the user and ends their sockets and streams on every instance. */
  async deactivate(userId: string): Promise<void> {
    const { count } = await this.prisma.user.updateMany({ where: { id: userId }, data: { isActive: false } });
    if (count === 0) throw new ApiError(404, 'NOT_FOUND');
    // After the commit: a reconnect now fails verification, so the cut is final.
    this.connections.disconnectUser(userId, 'USER_DISCONNECTED');
  }

  async activate(userId: string): Promise<void> {
    const { count } = await this.prisma.user.updateMany({ where: { id: userId }, data: { isActive: true } });
    if (count === 0) throw new ApiError(404, 'NOT_FOUND');
  }
}
