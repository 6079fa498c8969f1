import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { NotificationPriority } from '@notify-gateway/contracts';
import type { AuthenticatedUser } from '../auth/authenticated-user.js';
import { PrismaService } from '../core/prisma/prisma.service.js';
import { isTenantAdmin, visibleTo } from './notification-audience.js';
import { NOTIFICATION_VIEW_FIELDS, type NotificationRow } from './notification.view.js';

/** Key of the advisory lock that makes seq order equal commit order (docs/DELIVERY.md). */
const SEQUENCE_LOCK = 72707370;
const MAX_BIGINT = 9223372036854775807n;

export type Viewer = Pick<AuthenticatedUser, 'userId' | 'tenantId' | 'role'>;

export interface NotificationContent {
  createdById: string | null;
  title: string;
  content: string;
  priority: NotificationPriority;
  data: Record<string, unknown> | null;
}

/** Who a new notification is for. USER names its recipient; the row takes the recipient's tenant. */
export type NewAudience =
  | { scope: 'USER'; userId: string; withinTenant: string | null }
  | { scope: 'TENANT'; tenantId: string }
  | { scope: 'GLOBAL' };

export interface StoredNotification extends NotificationRow {
  userId: string | null;
  tenantId: string | null;
}

/** All notification I/O. */
@Injectable()
export class NotificationRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Inserts under a transaction-scoped advisory lock: a transaction holding seq N commits
   * before any transaction can draw N+1, so a reader that has seen N can never later find a
   * smaller seq appear. Catch-up by "seq > cursor" therefore never skips a late commit.
   *
   * One statement in its own transaction: the MATERIALIZED CTE takes the lock before the row
   * draws its seq, and the commit (which releases the lock) follows inside PostgreSQL. An
   * interactive transaction held the lock across two client round trips and whatever the event
   * loop was doing in between, which serialised publishing at ~200/s under load
   * (docs/BENCHMARKS.md).
   */
  async create(audience: NewAudience, content: NotificationContent): Promise<StoredNotification | null> {
    const recipient = audience.scope === 'USER' ? audience.userId : null;
    const withinTenant = audience.scope === 'USER' ? audience.withinTenant : null;
    const tenant = audience.scope === 'TENANT' ? audience.tenantId : null;
    const data = content.data === null ? null : JSON.stringify(content.data);
    // For USER the recipient's tenant comes from the same statement (no extra round trip); no
    // row when the recipient does not exist or lies outside `withinTenant`, and then no insert.
    const rows = await this.prisma.$queryRaw<StoredNotification[]>`
      WITH sequence_lock AS MATERIALIZED (SELECT pg_advisory_xact_lock(${SEQUENCE_LOCK})),
      audience AS (
        SELECT ${tenant}::uuid AS tenant_id WHERE ${recipient}::uuid IS NULL
        UNION ALL
        SELECT u.tenant_id FROM users u
        WHERE u.id = ${recipient}::uuid AND (${withinTenant}::uuid IS NULL OR u.tenant_id = ${withinTenant}::uuid)
      )
      INSERT INTO notifications (id, scope, tenant_id, user_id, created_by_id, title, content, priority, data)
      SELECT ${randomUUID()}::uuid, ${audience.scope}::"NotificationScope", audience.tenant_id, ${recipient}::uuid,
             ${content.createdById}::uuid, ${content.title}, ${content.content}, ${content.priority}::"NotificationPriority", ${data}::jsonb
      FROM audience, sequence_lock
      RETURNING id, seq, scope, title, content, priority, data, created_at AS "createdAt", user_id AS "userId", tenant_id AS "tenantId"`;
    return rows[0] ?? null;
  }

  /** Oldest first after `after`: catch-up. One extra row tells whether more wait. */
  async listAfter(viewer: Viewer, after: string, limit: number): Promise<{ rows: (NotificationRow & { read: boolean })[]; hasMore: boolean }> {
    const rows = await this.prisma.notification.findMany({
      where: { AND: [visibleTo(viewer), { seq: { gt: parseCursor(after) } }] },
      orderBy: { seq: 'asc' },
      take: limit + 1,
      select: { ...NOTIFICATION_VIEW_FIELDS, reads: { where: { userId: viewer.userId }, select: { userId: true } } },
    });
    return { rows: rows.slice(0, limit).map(withReadFlag), hasMore: rows.length > limit };
  }

  /** Newest first: what a notification list shows. */
  async listLatest(viewer: Viewer, limit: number): Promise<{ rows: (NotificationRow & { read: boolean })[]; hasMore: boolean }> {
    const rows = await this.prisma.notification.findMany({
      where: visibleTo(viewer),
      orderBy: { seq: 'desc' },
      take: limit + 1,
      select: { ...NOTIFICATION_VIEW_FIELDS, reads: { where: { userId: viewer.userId }, select: { userId: true } } },
    });
    return { rows: rows.slice(0, limit).map(withReadFlag), hasMore: rows.length > limit };
  }

  unreadCount(viewer: Viewer): Promise<number> {
    return this.prisma.notification.count({
      where: { AND: [visibleTo(viewer), { reads: { none: { userId: viewer.userId } } }] },
    });
  }

  /** Marks one notification read for the viewer; false when the viewer cannot see it. */
  async markRead(viewer: Viewer, notificationId: string): Promise<boolean> {
    const visible = await this.prisma.notification.findFirst({
      where: { AND: [visibleTo(viewer), { id: notificationId }] },
      select: { id: true },
    });
    if (!visible) return false;
    await this.prisma.notificationRead.upsert({
      where: { userId_notificationId: { userId: viewer.userId, notificationId } },
      create: { userId: viewer.userId, notificationId },
      update: {},
    });
    return true;
  }

  /** Marks everything the viewer can see read; returns how many were unread. */
  markAllRead(viewer: Viewer): Promise<number> {
    const admin = isTenantAdmin(viewer.role);
    const superAdmin = viewer.role === 'SUPER_ADMIN';
    return this.prisma.$executeRaw`
      INSERT INTO notification_reads (user_id, notification_id)
      SELECT ${viewer.userId}::uuid, n.id FROM notifications n
      WHERE (n.scope = 'USER' AND n.user_id = ${viewer.userId}::uuid)
         OR (${admin} AND n.scope = 'TENANT' AND n.tenant_id = ${viewer.tenantId}::uuid)
         OR (${superAdmin} AND n.scope = 'GLOBAL')
      ON CONFLICT DO NOTHING`;
  }

  /** The recipient's tenant, or null when there is no such user. */
  async tenantOfUser(userId: string): Promise<string | null> {
    const user = await this.prisma.user.findUnique({ where: { id: userId }, select: { tenantId: true } });
    return user?.tenantId ?? null;
  }

  async tenantExists(tenantId: string): Promise<boolean> {
    return (await this.prisma.tenant.count({ where: { id: tenantId } })) > 0;
  }
}

function withReadFlag<T extends NotificationRow & { reads: unknown[] }>(row: T): NotificationRow & { read: boolean } {
  const { reads, ...rest } = row;
  return { ...rest, read: reads.length > 0 };
}

function parseCursor(cursor: string): bigint {
  const value = BigInt(cursor);
  return value > MAX_BIGINT ? MAX_BIGINT : value;
}
