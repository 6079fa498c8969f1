import { Injectable } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { NOTIFICATION_LIMITS, type NotificationPage, type NotificationView } from '@notify-gateway/contracts';
import type { AuthenticatedUser } from '../auth/authenticated-user.js';
import { ApiError } from '../common/errors/api-error.js';
import { toFieldErrors } from '../common/errors/validation-errors.js';
import { MetricsService } from '../observability/metrics.service.js';
import { SecurityEventLogger } from '../security/security-event.logger.js';
import { copyJson } from './dto/json-data.transform.js';
import { NotificationContentDto } from './dto/notification-content.dto.js';
import type { NotificationCreateDto } from './dto/notification-create.dto.js';
import { isTenantAdmin, roomOf, userRoom } from './notification-audience.js';
import { NotificationFanout } from './notification-fanout.js';
import { NotificationRepository, type NewAudience, type Viewer } from './notification.repository.js';
import { toView } from './notification.view.js';

export type NotificationInput = Pick<NotificationContentDto, 'title' | 'content' | 'priority' | 'data'> & {
  /** Who sent it, when a person did. */
  createdById?: string;
};

/**
 * Owns the notification flow for every transport and for other modules:
 * validate → persist (committed) → deliver through the one fan-out path.
 */
@Injectable()
export class NotificationService {
  constructor(
    private readonly repository: NotificationRepository,
    private readonly fanout: NotificationFanout,
    private readonly metrics: MetricsService,
    private readonly security: SecurityEventLogger,
  ) {}

  /** Persists a notification for one user and delivers it; resolves once committed. */
  async sendToUser(userId: string, input: NotificationInput): Promise<NotificationView> {
    const sent = await this.publish({ scope: 'USER', userId, withinTenant: null }, await validContent(input), input.createdById);
    if (!sent) throw new ApiError(404, 'NOT_FOUND');
    return sent;
  }

  /** For the ADMIN and SUPER_ADMIN users of a tenant. */
  async sendToTenant(tenantId: string, input: NotificationInput): Promise<NotificationView> {
    if (!(await this.repository.tenantExists(tenantId))) throw new ApiError(404, 'NOT_FOUND');
    return this.published(await this.publish({ scope: 'TENANT', tenantId }, await validContent(input), input.createdById));
  }

  /** For every SUPER_ADMIN. */
  async sendGlobal(input: NotificationInput): Promise<NotificationView> {
    return this.published(await this.publish({ scope: 'GLOBAL' }, await validContent(input), input.createdById));
  }

  /**
   * A person creating a notification (REST or WebSocket): ADMIN within its tenant, SUPER_ADMIN
   * anywhere. `dto` has already passed the validation pipe.
   */
  async createAs(actor: AuthenticatedUser, dto: NotificationCreateDto): Promise<NotificationView> {
    const scope = dto.scope ?? 'USER';
    if (!isTenantAdmin(actor.role)) return this.refuse(actor, 'role');
    switch (scope) {
      case 'USER': {
        if (!dto.userId) throw new ApiError(400, 'VALIDATION_FAILED', undefined, [{ field: 'userId', messages: ['userId is required for scope USER'] }]);
        const withinTenant = actor.role === 'SUPER_ADMIN' ? null : actor.tenantId;
        const sent = await this.publish({ scope, userId: dto.userId, withinTenant }, dto, actor.userId);
        if (sent) return sent;
        // Another tenant's user looks exactly like a user that does not exist; only the log tells.
        if (await this.repository.tenantOfUser(dto.userId)) {
          this.security.log('UNAUTHORIZED_ACCESS_ATTEMPT', { userId: actor.userId, tenantId: actor.tenantId, reason: 'cross-tenant user target' });
        }
        throw new ApiError(404, 'NOT_FOUND');
      }
      case 'TENANT': {
        const tenantId = dto.tenantId ?? actor.tenantId;
        if (tenantId !== actor.tenantId && actor.role !== 'SUPER_ADMIN') return this.refuse(actor, 'cross-tenant broadcast');
        if (!(await this.repository.tenantExists(tenantId))) throw new ApiError(404, 'NOT_FOUND');
        return this.published(await this.publish({ scope, tenantId }, dto, actor.userId));
      }
      case 'GLOBAL':
        if (actor.role !== 'SUPER_ADMIN') return this.refuse(actor, 'global broadcast');
        return this.published(await this.publish({ scope }, dto, actor.userId));
    }
  }

  async list(viewer: Viewer, after: string | undefined, limit: number = NOTIFICATION_LIMITS.pageDefault): Promise<NotificationPage> {
    const { rows, hasMore } = after === undefined ? await this.repository.listLatest(viewer, limit) : await this.repository.listAfter(viewer, after, limit);
    const items = rows.map((row) => toView(row, row.read));
    const last = after === undefined ? items[0] : items[items.length - 1];
    return { items, cursor: last?.cursor ?? after ?? null, hasMore };
  }

  /** Everything after `after`, oldest first: what a reconnecting client missed. */
  async sync(viewer: Viewer, after = '0', limit: number = NOTIFICATION_LIMITS.pageMax): Promise<NotificationPage> {
    const { rows, hasMore } = await this.repository.listAfter(viewer, after, limit);
    const items = rows.map((row) => toView(row, row.read));
    return { items, cursor: items[items.length - 1]?.cursor ?? after, hasMore };
  }

  unreadCount(viewer: Viewer): Promise<number> {
    return this.repository.unreadCount(viewer);
  }

  /** Marks one read; the user's other sessions hear of it. */
  async markRead(viewer: Viewer, notificationId: string, exceptSocketId?: string): Promise<void> {
    if (!(await this.repository.markRead(viewer, notificationId))) throw new ApiError(404, 'NOT_FOUND');
    this.fanout.publish(userRoom(viewer.userId), 'notification:read', { id: notificationId }, exceptSocketId);
  }

  async markAllRead(viewer: Viewer, exceptSocketId?: string): Promise<number> {
    const count = await this.repository.markAllRead(viewer);
    this.fanout.publish(userRoom(viewer.userId), 'notification:read', { all: true }, exceptSocketId);
    return count;
  }

  /** Stores, then delivers; null when a USER recipient does not exist (or lies outside the tenant). */
  private async publish(audience: NewAudience, content: NotificationContentDto, createdById: string | undefined): Promise<NotificationView | null> {
    const started = process.hrtime.bigint();
    const stored = await this.repository.create(audience, {
      createdById: createdById ?? null,
      title: content.title,
      content: content.content,
      priority: content.priority ?? 'medium',
      data: content.data ?? null,
    });
    if (!stored) return null;
    const view = toView(stored);
    this.fanout.publish(roomOf(stored), 'notification:new', view);
    this.metrics.notificationsPublished.inc({ scope: stored.scope });
    this.metrics.publishLatency.observe(Number(process.hrtime.bigint() - started) / 1e9);
    return view;
  }

  /** TENANT and GLOBAL audiences always take the row. */
  private published(view: NotificationView | null): NotificationView {
    if (!view) throw new Error('broadcast insert returned no row');
    return view;
  }

  private refuse(actor: AuthenticatedUser, reason: string): never {
    this.security.log('UNAUTHORIZED_ACCESS_ATTEMPT', { userId: actor.userId, tenantId: actor.tenantId, reason });
    throw new ApiError(403, 'FORBIDDEN');
  }
}

function pickContent(dto: NotificationContentDto): NotificationInput {
  return { title: dto.title, content: dto.content, priority: dto.priority, data: dto.data };
}

/** Other modules call the service directly: their input gets the same rules as a client's. */
async function validContent(input: NotificationInput): Promise<NotificationContentDto> {
  const dto = plainToInstance(NotificationContentDto, { ...pickContent(input), data: copyJson(input.data) });
  const errors = await validate(dto, { whitelist: true, forbidUnknownValues: true });
  if (errors.length > 0) throw new ApiError(400, 'VALIDATION_FAILED', undefined, toFieldErrors(errors));
  return dto;
}
