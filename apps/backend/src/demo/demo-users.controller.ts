import { Controller, Get } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { AuthenticatedUser } from '../auth/authenticated-user.js';
import { CurrentUser, Roles } from '../common/decorators/auth.decorators.js';
import { GatewayHttp } from '../common/decorators/gateway-http.decorator.js';
import { PrismaService } from '../core/prisma/prisma.service.js';

/** Demo only (never in production): the recipients an admin's USER-scope send can pick, by email. */
@ApiExcludeController()
@GatewayHttp()
@Roles('ADMIN', 'SUPER_ADMIN')
@Controller('demo/api')
export class DemoUsersController {
  constructor(private readonly prisma: PrismaService) {}

  /** Active users of the admin's tenant, newest first; of every tenant for a SUPER_ADMIN (as the send rules allow). */
  @Get('users')
  users(@CurrentUser() user: AuthenticatedUser): Promise<{ id: string; email: string }[]> {
    return this.prisma.user.findMany({
      where: { isActive: true, ...(user.role === 'SUPER_ADMIN' ? {} : { tenantId: user.tenantId }) },
      select: { id: true, email: true },
      orderBy: { createdAt: 'desc' },
      take: 200,
    });
  }
}
