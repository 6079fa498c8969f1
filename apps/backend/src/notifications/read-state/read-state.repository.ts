import { Injectable } from '@nestjs/common';
import { NOTIFICATION_LIMITS } from '@notify-gateway/contracts';
import { PrismaService } from '../../core/prisma/prisma.service.js';
import { visibleTo } from '../notification-audience.js';
import { streamsOf, type Viewer } from '../streams/stream-position.js';

/** Stream → the reader's read watermark there (only watermarks of the stream's current epoch). */
export type ReadMarks = Map<string, bigint>;

/**
 * A user's watermarks that still hold: one primary-key probe per stream, kept only where the
 * stream's epoch is the one the watermark was taken in (a stream created again restarts at 1).
 * $1 user id, $2 the streams.
 */
const HOLDING_MARKS = `
  SELECT m.stream, m.read_offset::text AS "readOffset"
  FROM notification_read_marks m JOIN notification_streams s ON s.stream = m.stream AND s.epoch = m.epoch
  WHERE m.user_id = $1::uuid AND m.stream = ANY($2::text[])`;

/**
 * Unread among the newest $3 of each stream: above the watermark (the rows above it are the
 * newest, so "newest $3 above the watermark" is the newest $3 with the read ones left out), and
 * without a read row. Per stream one backward range of the (stream, offset) index, stopped at
 * the watermark, and as many primary-key probes of the reads. $1 user id, $2 the streams.
 */
const UNREAD_COUNT = `
  SELECT count(*)::int AS unread
  FROM unnest($2::text[]) AS s(stream)
  LEFT JOIN notification_streams h ON h.stream = s.stream
  LEFT JOIN notification_read_marks m ON m.user_id = $1::uuid AND m.stream = s.stream AND m.epoch = h.epoch
  CROSS JOIN LATERAL (
    SELECT n.id FROM notifications n
    WHERE n.stream = s.stream AND n.stream_offset > COALESCE(m.read_offset, 0)
    ORDER BY n.stream_offset DESC LIMIT $3::int
  ) AS recent
  WHERE NOT EXISTS (SELECT 1 FROM notification_reads r WHERE r.user_id = $1::uuid AND r.notification_id = recent.id)`;

/**
 * Mark-all-read in one statement, O(streams) rows written: each stream's watermark moves to the
 * head as committed at this statement's snapshot (a publish still in flight has offsets above it,
 * so it stays unread). The count is UNREAD_COUNT itself, in the same snapshot: what the badge
 * showed, bounded by the same window. A watermark never moves back within an epoch; under a new
 * epoch it starts over. $1 user id, $2 the streams, $3 the count window.
 */
const MARK_ALL_READ = `
  WITH unread AS (${UNREAD_COUNT}),
  heads AS (
    SELECT h.stream, h.epoch, h.last_offset, COALESCE(m.read_offset, 0) AS from_offset
    FROM notification_streams h
    LEFT JOIN notification_read_marks m ON m.user_id = $1::uuid AND m.stream = h.stream AND m.epoch = h.epoch
    WHERE h.stream = ANY($2::text[])
  ),
  moved AS (
    INSERT INTO notification_read_marks AS m (user_id, stream, epoch, read_offset)
    SELECT $1::uuid, stream, epoch, last_offset FROM heads WHERE last_offset > from_offset
    ON CONFLICT (user_id, stream) DO UPDATE SET
      read_offset = CASE WHEN m.epoch = EXCLUDED.epoch THEN GREATEST(m.read_offset, EXCLUDED.read_offset) ELSE EXCLUDED.read_offset END,
      epoch = EXCLUDED.epoch,
      updated_at = now()
    RETURNING 1
  )
  SELECT (SELECT unread FROM unread) AS unread, (SELECT count(*)::int FROM moved) AS moved`;

/**
 * A read row for one notification the user can see, unless its stream's watermark already covers
 * it (then it is read, and stays so: nothing to write). $1 user id, $2 notification id.
 */
const MARK_ONE_READ = `
  INSERT INTO notification_reads (user_id, notification_id)
  SELECT $1::uuid, n.id FROM notifications n
  WHERE n.id = $2::uuid AND NOT EXISTS (
    SELECT 1 FROM notification_read_marks m JOIN notification_streams s ON s.stream = m.stream AND s.epoch = m.epoch
    WHERE m.user_id = $1::uuid AND m.stream = n.stream AND n.stream_offset <= m.read_offset)
  ON CONFLICT DO NOTHING`;

/**
 * A user's read state: a notification is read for a user when its offset is at or below the
 * user's watermark for its stream (moved by mark-all-read), or when it has a notification_reads
 * row (mark-read of one). Both go with what they belong to: read rows cascade with their
 * notification (pruning) and user; watermarks cascade with their user and are void under a new
 * epoch of their stream. Pruning never needs to touch a watermark: it names an offset, not a row.
 */
@Injectable()
export class ReadStateRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** The user's watermarks that hold, for these streams. */
  async marks(userId: string, streams: string[]): Promise<ReadMarks> {
    if (streams.length === 0) return new Map();
    const { rows } = await this.prisma.pool.query<{ stream: string; readOffset: string }>(HOLDING_MARKS, [userId, streams]);
    return new Map(rows.map((row) => [row.stream, BigInt(row.readOffset)]));
  }

  /** The same rows with `read` also true where the viewer's watermark covers them. */
  async withMarks<T extends { stream: string; streamOffset: bigint; read: boolean }>(viewer: Viewer, rows: T[]): Promise<T[]> {
    if (rows.length === 0) return rows;
    const marks = await this.marks(viewer.userId, [...new Set(rows.map((row) => row.stream))]);
    if (marks.size === 0) return rows;
    return rows.map((row) => (row.read || !coveredBy(marks, row) ? row : { ...row, read: true }));
  }

  /** Unread among the newest NOTIFICATION_LIMITS.unreadCountWindow of each stream the viewer reads. */
  async unreadCount(viewer: Viewer): Promise<number> {
    const { rows } = await this.prisma.pool.query<{ unread: number }>(UNREAD_COUNT, [viewer.userId, [...streamsOf(viewer).values()], NOTIFICATION_LIMITS.unreadCountWindow]);
    return rows[0]?.unread ?? 0;
  }

  /** Marks one notification read for the viewer (idempotent); false when the viewer cannot see it. */
  async markRead(viewer: Viewer, notificationId: string): Promise<boolean> {
    const visible = await this.prisma.notification.findFirst({ where: { AND: [visibleTo(viewer), { id: notificationId }] }, select: { id: true } });
    if (!visible) return false;
    await this.prisma.pool.query(MARK_ONE_READ, [viewer.userId, notificationId]);
    return true;
  }

  /**
   * Moves the viewer's watermark of every stream it reads to the head; returns how many were
   * unread, counted in the unread count's window (so what the badge showed, never more).
   */
  async markAllRead(viewer: Viewer): Promise<number> {
    const streams = [...streamsOf(viewer).values()];
    const { rows } = await this.prisma.pool.query<{ unread: number }>(MARK_ALL_READ, [viewer.userId, streams, NOTIFICATION_LIMITS.unreadCountWindow]);
    return rows[0]?.unread ?? 0;
  }
}

/** Whether the row's offset is at or below the reader's watermark for its stream. */
export function coveredBy(marks: ReadMarks, row: { stream: string; streamOffset: bigint }): boolean {
  const mark = marks.get(row.stream);
  return mark !== undefined && row.streamOffset <= mark;
}

/** The statements above, for the store bench's EXPLAIN (bench/store/scenario.js): what runs is what is measured. */
export const READ_STATE_SQL = { holdingMarks: HOLDING_MARKS, unreadCount: UNREAD_COUNT, markAllRead: MARK_ALL_READ, markOneRead: MARK_ONE_READ } as const;
