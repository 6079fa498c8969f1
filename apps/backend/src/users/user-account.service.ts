import { Injectable, Logger } from '@nestjs/common';
import { ROLES, type Role } from '@notify-gateway/contracts';
import { UserStateChannel } from '../auth/user-state-channel.js';
import { ApiError } from '../common/errors/api-error.js';
import { PrismaService } from '../core/prisma/prisma.service.js';
import { ConnectionService } from '../notifications/connection.service.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Account state changes that must take effect on live sessions too. Each one commits, then
 * invalidates the user's cached state on every instance, whose sessions re-check at once (the
 * periodic re-check catches what an outage kept from them).
 */
@Injectable()
export class UserAccountService {
  private readonly logger = new Logger(UserAccountService.name);

  constructor(
    private readonly prisma: PrismaService,
    private readonly connections: ConnectionService,
    private readonly userState: UserStateChannel,
  ) {}

  /** Deactivates the user, ends their sockets and streams and refuses their tokens on every instance. */
  async deactivate(userId: string): Promise<void> {
    await this.update(userId, { isActive: false });
    // After the commit: a reconnect now fails verification, so the cut is final. The tokens are
    // revoked too, so a later activation does not bring them back. The invalidation ends the
    // sessions as well; this second path goes through the socket.io adapter.
    await this.connections.disconnectUser(userId, { revokeTokens: true, reason: 'USER_DISCONNECTED' }).catch((error: unknown) => {
      // The inactive flag in PostgreSQL already refuses the user; only the revocation is missing.
      this.logger.warn({ err: error, userId }, 'tokens of the deactivated user not revoked (Redis unavailable); the deactivation holds');
    });
  }

  async activate(userId: string): Promise<void> {
    await this.update(userId, { isActive: true });
  }

  /** Live sessions keep going with the new role's rooms and rights (a demoted ADMIN leaves `tenant:{id}`). */
  async changeRole(userId: string, role: Role): Promise<void> {
    if (!(ROLES as readonly string[]).includes(role)) throw new ApiError(400, 'VALIDATION_FAILED', undefined, [{ field: 'role', messages: [`must be one of ${ROLES.join(', ')}`] }]);
    await this.update(userId, { role });
  }

  /** Live sessions move to the new tenant's rooms; notifications addressed to the user stay theirs. */
  async moveToTenant(userId: string, tenantId: string): Promise<void> {
    if (!UUID.test(tenantId)) throw new ApiError(404, 'NOT_FOUND');
    const tenant = await this.prisma.tenant.findUnique({ where: { id: tenantId }, select: { id: true } });
    if (!tenant) throw new ApiError(404, 'NOT_FOUND');
    await this.update(userId, { tenantId });
  }

  private async update(userId: string, data: { isActive?: boolean; role?: Role; tenantId?: string }): Promise<void> {
    if (!UUID.test(userId)) throw new ApiError(404, 'NOT_FOUND');
    const { count } = await this.prisma.user.updateMany({ where: { id: userId }, data });
    if (count === 0) throw new ApiError(404, 'NOT_FOUND');
    await this.userState.invalidate(userId);
  }
}
