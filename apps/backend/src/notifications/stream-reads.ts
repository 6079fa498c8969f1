import type { NotificationRow } from './notification.view.js';

/**
 * The statements of the read path (every connect's first sync, every catch-up page), sent straight
 * on the pool as named statements: in a reconnect storm Prisma's query compiler cost more than
 * the queries (about a third of an instance's CPU per connect, measured in the churn bench).
 * int8 columns come back as text and are turned into BigInt here.
 */

/** Each stream's head. $1 the streams. */
export const STREAM_HEADS = 'SELECT stream, epoch, last_offset::text AS "lastOffset" FROM notification_streams WHERE stream = ANY($1::text[])';

/** Rows for streams nobody wrote to yet; a concurrent creator wins and its epoch stands. $1 streams, $2 their epochs. */
export const CREATE_STREAMS = `
  INSERT INTO notification_streams (stream, epoch, last_offset)
  SELECT stream, epoch, 0 FROM unnest($1::text[], $2::text[]) AS s(stream, epoch)
  ON CONFLICT (stream) DO NOTHING`;

const ROW_FIELDS = `n.id, n.seq::text AS seq, n.scope, n.title, n.content, n.priority, n.data, n.created_at AS "createdAt", n.stream,
  n.stream_offset::text AS "streamOffset",
  EXISTS (SELECT 1 FROM notification_reads r WHERE r.user_id = $2::uuid AND r.notification_id = n.id) AS read`;

/**
 * One catch-up page in ONE statement (one snapshot): per position asked for, the stream's head,
 * the reader's read watermark that still holds there, and the next $5 rows after the position,
 * read only where the reader is to be served (same epoch, behind the head, at most $6 behind;
 * otherwise the caller resets the stream). A stream without a head row is absent. A position
 * served with no row to show comes back once, its row fields null.
 * $1 streams, $2 the viewer, $3 their epochs, $4 their offsets, $5 rows per stream, $6 CATCH_UP_MAX.
 */
export const CATCH_UP_PAGE = `
  SELECT h.stream AS "headStream", h.epoch AS "headEpoch", h.last_offset::text AS "headOffset", m.read_offset::text AS "readOffset", n.*
  FROM unnest($1::text[], $3::text[], $4::bigint[]) AS p(stream, epoch, after)
  JOIN notification_streams h ON h.stream = p.stream
  LEFT JOIN notification_read_marks m ON m.user_id = $2::uuid AND m.stream = h.stream AND m.epoch = h.epoch
  LEFT JOIN LATERAL (
    SELECT ${ROW_FIELDS} FROM notifications n
    WHERE h.epoch = p.epoch AND p.after < h.last_offset AND h.last_offset - p.after <= $6::bigint
      AND n.stream = h.stream AND n.stream_offset > p.after
    ORDER BY n.stream_offset ASC LIMIT $5::int
  ) n ON true`;

/**
 * Every stream's head with its newest $3 rows, in ONE statement, so one snapshot: the page and
 * the positions agree without a transaction. A stream without rows comes back once, its row
 * fields null. $1 the streams, $2 the viewer.
 */
export const LATEST_WITH_HEADS = `
  SELECT h.stream AS "headStream", h.epoch AS "headEpoch", h.last_offset::text AS "headOffset", n.*
  FROM notification_streams h
  LEFT JOIN LATERAL (
    SELECT ${ROW_FIELDS} FROM notifications n
    WHERE n.stream = h.stream ORDER BY n.stream_offset DESC LIMIT $3::int
  ) n ON true
  WHERE h.stream = ANY($1::text[])`;

/** A head as LATEST_WITH_HEADS and CATCH_UP_PAGE send it, with the row fields of a notification or all null. */
export type HeadRowOnTheWire<Extra> = { headStream: string; headEpoch: string; headOffset: string } & Extra &
  ({ [K in keyof ReadRowOnTheWire]: ReadRowOnTheWire[K] } | { [K in keyof ReadRowOnTheWire]: null });

/** A notification row as the statements above send it. */
export interface ReadRowOnTheWire extends Omit<NotificationRow, 'seq' | 'streamOffset'> {
  seq: string;
  streamOffset: string;
  read: boolean;
}

export function fromWire(row: ReadRowOnTheWire): NotificationRow & { read: boolean } {
  return {
    id: row.id,
    seq: BigInt(row.seq),
    scope: row.scope,
    title: row.title,
    content: row.content,
    priority: row.priority,
    data: row.data,
    createdAt: row.createdAt,
    stream: row.stream,
    streamOffset: BigInt(row.streamOffset),
    read: row.read,
  };
}
