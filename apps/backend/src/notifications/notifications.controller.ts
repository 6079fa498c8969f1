import { Body, Controller, Get, Headers, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { IDEMPOTENCY_KEY_PATTERN, type NotificationBatchResponse, type NotificationPage, type NotificationView } from '@notify-gateway/contracts';
import type { AuthenticatedUser } from '../auth/authenticated-user.js';
import { CurrentUser, Roles } from '../auth/http/auth.decorators.js';
import { ApiError } from '../common/errors/api-error.js';
import { SpendBudget } from '../auth/http/request-budget.guard.js';
import { ApiErrors } from '../common/openapi/api-errors.decorator.js';
import { CountDto, NotificationBatchResponseDto, NotificationPageDto, NotificationViewDto, OkCountDto } from '../common/openapi/response.dto.js';
import { NotificationBatchDto } from './dto/notification-batch.dto.js';
import { NotificationCreateDto } from './dto/notification-create.dto.js';
import { NotificationListQueryDto } from './dto/notification-query.dto.js';
import { NotificationService } from './notification.service.js';
import { GatewayHttp } from '../auth/http/gateway-http.decorator.js';

const notFoundOnBadId = new ParseUUIDPipe({ exceptionFactory: () => new ApiError(404, 'NOT_FOUND') });

@ApiTags('notifications')
@ApiBearerAuth()
@ApiErrors(401, 403)
@GatewayHttp()
@Controller('notifications')
export class NotificationsController {
  constructor(private readonly notifications: NotificationService) {}

  @Get()
  @ApiOperation({
    summary: 'Notifications visible to the caller: newest first with the current position, after a position (per stream, oldest first), or after a cursor',
    description: 'See docs/DELIVERY.md for positions; `after` is the older cursor, which orders a listing but does not prove commit order.',
  })
  @ApiOkResponse({ type: NotificationPageDto })
  @ApiErrors(400, 429)
  @SpendBudget('read')
  list(@CurrentUser() user: AuthenticatedUser, @Query() query: NotificationListQueryDto): Promise<NotificationPage> {
    if (query.position !== undefined && query.after !== undefined) {
      throw new ApiError(400, 'VALIDATION_FAILED', undefined, [{ field: 'position', messages: ['position and after are exclusive'] }]);
    }
    return this.notifications.list(user, query);
  }

  @Get('unread-count')
  @ApiOperation({ summary: 'How many visible notifications the caller has not read, within the newest 1,000 of each stream it reads' })
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
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: `A retry with this key within 24 h returns the original and stores nothing (${IDEMPOTENCY_KEY_PATTERN})` })
  @ApiCreatedResponse({ type: NotificationViewDto })
  @ApiErrors(400, 404, 409, 410, 413, 429, 503)
  @SpendBudget('create')
  create(
    @CurrentUser() user: AuthenticatedUser,
    @Body() body: NotificationCreateDto,
    @Headers('idempotency-key') idempotencyKey: string | string[] | undefined,
  ): Promise<NotificationView> {
    return this.notifications.createAs(user, body, headerKey(idempotencyKey));
  }

  @Post('batch')
  @Roles('ADMIN', 'SUPER_ADMIN')
  @ApiOperation({
    summary: 'Create up to 500 notifications at once, each with the rules of POST /notifications',
    description: 'Every item is validated, authorised and its audience found before any is stored: one refused item refuses the whole batch (field errors name items.N), nothing is stored.',
  })
  @ApiCreatedResponse({ type: NotificationBatchResponseDto })
  @ApiErrors(400, 404, 409, 410, 413, 429, 503)
  @SpendBudget('create')
  async createMany(
    @CurrentUser() user: AuthenticatedUser,
    @Body() body: NotificationBatchDto,
    @Headers('idempotency-key') idempotencyKey: string | string[] | undefined,
  ): Promise<NotificationBatchResponse> {
    // Refused, not ignored: a client that relied on it would store every item again on its retry.
    if (idempotencyKey !== undefined) {
      throw new ApiError(400, 'VALIDATION_FAILED', undefined, [{ field: 'Idempotency-Key', messages: ['a batch takes idempotencyKey on each item, not the Idempotency-Key header'] }]);
    }
    return { items: await this.notifications.createManyAs(user, body.items) };
  }
}

/** The header once, as it came; a repeated header is refused rather than guessed at. */
function headerKey(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new ApiError(400, 'VALIDATION_FAILED', undefined, [{ field: 'Idempotency-Key', messages: ['send Idempotency-Key once'] }]);
  return value;
}
