import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query } from '@nestjs/common';
import type { NotificationPage, NotificationView } from '@notify-gateway/contracts';
import type { AuthenticatedUser } from '../auth/authenticated-user.js';
import { CurrentUser, Roles } from '../common/decorators/auth.decorators.js';
import { ApiError } from '../common/errors/api-error.js';
import { NotificationCreateDto } from './dto/notification-create.dto.js';
import { NotificationListQueryDto } from './dto/notification-query.dto.js';
import { NotificationService } from './notification.service.js';

const notFoundOnBadId = new ParseUUIDPipe({ exceptionFactory: () => new ApiError(404, 'NOT_FOUND') });

@Controller('notifications')
export class NotificationsController {
  constructor(private readonly notifications: NotificationService) {}

  @Get()
  list(@CurrentUser() user: AuthenticatedUser, @Query() query: NotificationListQueryDto): Promise<NotificationPage> {
    return this.notifications.list(user, query.after, query.limit);
  }

  @Get('unread-count')
  async unreadCount(@CurrentUser() user: AuthenticatedUser): Promise<{ count: number }> {
    return { count: await this.notifications.unreadCount(user) };
  }

  @Patch(':id/read')
  @HttpCode(200)
  async markRead(@CurrentUser() user: AuthenticatedUser, @Param('id', notFoundOnBadId) id: string): Promise<{ ok: true }> {
    await this.notifications.markRead(user, id);
    return { ok: true };
  }

  @Post('read-all')
  @HttpCode(200)
  async markAllRead(@CurrentUser() user: AuthenticatedUser): Promise<{ ok: true; count: number }> {
    return { ok: true, count: await this.notifications.markAllRead(user) };
  }

  @Post()
  @Roles('ADMIN', 'SUPER_ADMIN')
  create(@CurrentUser() user: AuthenticatedUser, @Body() body: NotificationCreateDto): Promise<NotificationView> {
    return this.notifications.createAs(user, body);
  }
}
