import { Controller, Get, Query } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { IsEmail, MaxLength } from 'class-validator';
import type { AuthenticatedUser } from '../auth/authenticated-user.js';
import { CurrentUser, Roles } from '../auth/http/auth.decorators.js';
import { GatewayHttp } from '../auth/http/gateway-http.decorator.js';
import { ApiError } from '../common/errors/api-error.js';
import { PrismaService } from '../core/prisma/prisma.service.js';

export class DemoRecipientQueryDto {
  @IsEmail()
  @MaxLength(254)
  email!: string;
}

/** Demo only (never in production): lets an admin's USER-scope send name its recipient by email. */
@ApiExcludeController()
@GatewayHttp()
@Roles('ADMIN', 'SUPER_ADMIN')
@Controller('demo/api')
export class DemoUsersController {
  constructor(private readonly prisma: PrismaService) {}

  /** The active user with this email that the admin may send to (its own tenant; any for a SUPER_ADMIN), or 404. */
  @Get('recipient')
  async recipient(@CurrentUser() user: AuthenticatedUser, @Query() query: DemoRecipientQueryDto): Promise<{ id: string; email: string }> {
    const found = await this.prisma.user.findFirst({
      where: { email: query.email.toLowerCase(), isActive: true, ...(user.role === 'SUPER_ADMIN' ? {} : { tenantId: user.tenantId }) },
      select: { id: true, email: true },
    });
    // Another tenant's user is answered exactly like a missing one.
    if (!found) throw new ApiError(404, 'NOT_FOUND');
    return found;
  }
}
