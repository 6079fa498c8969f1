import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { NotificationPage, NotificationView } from '@notify-gateway/contracts';
import type { AuthenticatedUser } from '../auth/authenticated-user.js';
import { CurrentUser, Roles } from '../common/decorators/auth.decorators.js';
import { ApiError } from '../common/errors/api-error.js';
import { SpendBudget } from '../common/guards/request-budget.guard.js';
import { ApiErrors } from '../common/openapi/api-errors.decorator.js';
import { CountDto, NotificationPageDto, NotificationViewDto, OkCountDto } from '../common/openapi/response.dto.js';
import { NotificationCreateDto } from './dto/notification-create.dto.js';
import { NotificationListQueryDto } from './dto/notification-query.dto.js';
import { NotificationService } from './notification.service.js';
import { GatewayHttp } from '../common/decorators/gateway-http.decorator.js';

const notFoundOnBadId = new ParseUUIDPipe({ exceptionFactory: () => new ApiError(404, 'NOT_FOUND') });

@ApiTags('notifications')
@ApiBearerAuth()
@ApiErrors(401, 403)
@GatewayHttp()
@Controller('notifications')
export class NotificationsController {
  constructor(private readonly notifications: NotificationService) {}

  @Get()
  @ApiOperation({ summary: 'Notifications visible to the caller: newest first, or after a cursor (oldest first)' })
  @ApiOkResponse({ type: NotificationPageDto })
  @ApiErrors(400, 429)
  @SpendBudget('read')
  list(@CurrentUser() user: AuthenticatedUser, @Query() query: NotificationListQueryDto): Promise<NotificationPage> {
    return this.notifications.list(user, query.after, query.limit);
  }

  @Get('unread-count')
  @ApiOperation({ summary: 'How many visible notifications the caller has not read' })
  @ApiOkResponse({ type: CountDto })
  @ApiErrors(429)
  @SpendBudget('read')
  async unreadCount(@CurrentUser() user: AuthenticatedUser): Promise<{ count: number }> {
    return { count: await this.notifications.unreadCount(user) };
  }

  @Patch(':id/read')
  @HttpCode(200)
  @ApiOperation({ summary: 'Mark one notification read for the caller' })
  @ApiOkResponse({ type: OkCountDto })
  @ApiErrors(404, 429)
  @SpendBudget('mark')
  async markRead(@CurrentUser() user: AuthenticatedUser, @Param('id', notFoundOnBadId) id: string): Promise<{ ok: true }> {
    await this.notifications.markRead(user, id);
    return { ok: true };
  }

  @Post('read-all')
  @HttpCode(200)
  @ApiOperation({ summary: 'Mark every visible notification read for the caller' })
  @ApiOkResponse({ type: OkCountDto })
  @ApiErrors(429)
  @SpendBudget('readAll')
  async markAllRead(@CurrentUser() user: AuthenticatedUser): Promise<{ ok: true; count: number }> {
    return { ok: true, count: await this.notifications.markAllRead(user) };
  }

  @Post()
  @Roles('ADMIN', 'SUPER_ADMIN')
  @ApiOperation({ summary: 'Create a notification (ADMIN: own tenant; SUPER_ADMIN: any tenant, GLOBAL)', description: 'Stored before it is delivered; 201 means committed.' })
  @ApiCreatedResponse({ type: NotificationViewDto })
  @ApiErrors(400, 404, 413, 429, 503)
  @SpendBudget('create')
  create(@CurrentUser() user: AuthenticatedUser, @Body() body: NotificationCreateDto): Promise<NotificationView> {
    return this.notifications.createAs(user, body);
  }
}
