import type { NotificationPriority, NotificationScope, NotificationView } from '@notify-gateway/contracts';
import type { Prisma } from '../generated/prisma/client.js';

export interface NotificationRow {
  id: string;
  seq: bigint;
  scope: NotificationScope;
  title: string;
  content: string;
  priority: NotificationPriority;
  data: Prisma.JsonValue | null;
  createdAt: Date;
  stream: string;
  streamOffset: bigint;
}

export const NOTIFICATION_VIEW_FIELDS = {
  id: true,
  seq: true,
  scope: true,
  title: true,
  content: true,
  priority: true,
  data: true,
  createdAt: true,
  stream: true,
  streamOffset: true,
} as const;

/** The row as clients see it; `cursor` is the decimal string of seq, `offset` of stream_offset. */
export function toView(row: NotificationRow, epoch: string, read?: boolean): NotificationView {
  return {
    id: row.id,
    cursor: row.seq.toString(),
    stream: row.stream,
    offset: row.streamOffset.toString(),
    epoch,
    scope: row.scope,
    title: row.title,
    content: row.content,
    priority: row.priority,
    data: isObject(row.data) ? row.data : null,
    createdAt: row.createdAt.toISOString(),
    ...(read === undefined ? {} : { read }),
  };
}

function isObject(value: Prisma.JsonValue | null): value is Prisma.JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
