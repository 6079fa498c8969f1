import { Injectable } from '@nestjs/common';
import DataLoader from 'dataloader';
import { randomBytes } from 'node:crypto';
import { IDEMPOTENCY_WINDOW_HOURS, type NotificationPriority, type NotificationScope } from '@notify-gateway/contracts';
import type { AuthenticatedUser } from '../auth/authenticated-user.js';
import { PrismaService } from '../core/prisma/prisma.service.js';
import { visibleTo } from './notification-audience.js';
import { NOTIFICATION_VIEW_FIELDS, type NotificationRow } from './notification.view.js';
import { textArrayParam } from './pg-array-literal.js';
import { CATCH_UP_PAGE, CREATE_STREAMS, fromWire, LATEST_WITH_HEADS, STREAM_HEADS, type HeadRowOnTheWire, type ReadRowOnTheWire } from './stream-reads.js';

const MAX_BIGINT = 9223372036854775807n;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type Viewer = Pick<AuthenticatedUser, 'userId' | 'tenantId' | 'role'>;

/** One notification ready to store: audience resolved, content validated, id chosen. */
export interface PreparedNotification {
  id: string;
  stream: string;
  scope: NotificationScope;
  tenantId: string | null;
  userId: string | null;
  createdById: string | null;
  title: string;
  content: string;
  priority: NotificationPriority;
  data: Record<string, unknown> | null;
  /** With a key, the row is stored only if (publisher, key) is not claimed within the window. */
  idempotency: { publisher: string; key: string; hash: string } | null;
}

export interface StoredNotification extends NotificationRow {
  userId: string | null;
  tenantId: string | null;
  epoch: string;
}

export interface StreamHead {
  epoch: string;
  lastOffset: bigint;
}

export interface ClaimedKey {
  requestHash: string;
  notification: StoredNotification | null;
}

type ReadRow = NotificationRow & { read: boolean };

/** One stream of a catch-up page: its head, the reader's watermark there, the rows after the position asked for. */
export interface CatchUpLane {
  head: StreamHead;
  /** The reader's read watermark that holds in the stream's epoch. */
  readOffset: bigint | undefined;
  /** Oldest first; empty when the reader is not to be served (other epoch, ahead, too far behind) or nothing follows. */
  rows: ReadRow[];
  hasMore: boolean;
}

/** The group statement of `insertGroup`; $1–$13 are the items' columns, $14 the idempotency window in hours. */
const INSERT_GROUP = `
  WITH input AS (
    SELECT * FROM unnest(
      $1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::uuid[], $6::uuid[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[]
    ) WITH ORDINALITY AS i(id, stream, scope, tenant_id, user_id, created_by_id, title, content, priority, data, publisher, key, hash, ord)
  ),
  claimed AS (
    INSERT INTO notification_idempotency_keys AS k (publisher, key, request_hash, notification_id)
    SELECT publisher, key, hash, id FROM input WHERE key IS NOT NULL
    ON CONFLICT (publisher, key) DO UPDATE
      SET request_hash = EXCLUDED.request_hash, notification_id = EXCLUDED.notification_id, created_at = now()
      WHERE k.created_at < now() - make_interval(hours => $14::int)
    RETURNING notification_id
  ),
  accepted AS (
    SELECT * FROM input WHERE key IS NULL OR id IN (SELECT notification_id FROM claimed)
  ),
  counts AS (
    SELECT stream, count(*)::bigint AS n FROM accepted GROUP BY stream
  ),
  bumped AS (
    INSERT INTO notification_streams AS s (stream, epoch, last_offset)
    SELECT stream, substr(md5(random()::text || stream), 1, 12), n FROM counts ORDER BY stream
    ON CONFLICT (stream) DO UPDATE SET last_offset = s.last_offset + EXCLUDED.last_offset
    RETURNING stream, epoch, last_offset,
      -- When the first stream row lock was granted (rows lock in stream order): the start of the
      -- hold that the trigger of migration 20261202000100_stream_lock_hold_report reports.
      set_config('notify.stream_lock_granted', coalesce(nullif(current_setting('notify.stream_lock_granted', true), ''), clock_timestamp()::text), true) AS granted
  ),
  numbered AS (
    SELECT a.*, b.last_offset - c.n + row_number() OVER (PARTITION BY a.stream ORDER BY a.ord) AS stream_offset
    FROM accepted a JOIN bumped b USING (stream) JOIN counts c USING (stream)
  ),
  inserted AS (
    INSERT INTO notifications (id, scope, tenant_id, user_id, created_by_id, title, content, priority, data, stream, stream_offset)
    SELECT id, scope::"NotificationScope", tenant_id, user_id, created_by_id, title, content, priority::"NotificationPriority", data::jsonb, stream, stream_offset
    FROM numbered ORDER BY stream, stream_offset
    RETURNING id, seq, data, created_at AS "createdAt", stream, stream_offset AS "streamOffset"
  )
  SELECT inserted.*, bumped.epoch FROM inserted JOIN bumped USING (stream)`;

/** Lookups for `lookupPerTurn`: the tenant of each recipient that exists, and each tenant that exists. */
const RECIPIENT_TENANTS = 'SELECT id, tenant_id AS value FROM users WHERE id = ANY($1::uuid[])';
const EXISTING_TENANTS = 'SELECT id, id AS value FROM tenants WHERE id = ANY($1::uuid[])';

/** The request hash of each (publisher, key) claimed within the window ($3 hours). */
const CLAIMED_HASHES = `
  SELECT k.publisher, k.key, k.request_hash AS hash FROM notification_idempotency_keys k
  JOIN unnest($1::text[], $2::text[]) AS w(publisher, key) USING (publisher, key)
  WHERE k.created_at >= now() - make_interval(hours => $3::int)`;

/** What the database decided for a row (the rest is the item as sent); int8 comes as text. */
interface StoredRowOnTheWire {
  id: string;
  seq: string;
  data: StoredNotification['data'];
  createdAt: Date;
  stream: string;
  streamOffset: string;
  epoch: string;
}

/** What the group statement stored, and how long it held its stream rows locked. */
export interface StoredGroup {
  rows: StoredNotification[];
  /**
   * From the first stream row lock granted to the end of the statement's work (foreign-key checks
   * included), on the database's clock; the commit's WAL flush follows. Null when no stream was bumped.
   */
  lockHoldSeconds: number | null;
}

/** The trigger of migration 20261202000100_stream_lock_hold_report reports the hold in microseconds. */
const LOCK_HOLD_NOTICE = /^notify_stream_lock_hold_us=(\d+)$/;

/** PostgreSQL's foreign_key_violation: a row names a tenant, user or author that is not (or no longer) there. */
export function isForeignKeyViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23503';
}

/** All notification I/O. */
@Injectable()
export class NotificationRepository {
  private readonly recipientTenants = this.lookupPerTurn('notify_recipient_tenants', RECIPIENT_TENANTS);
  private readonly tenantsThatExist = this.lookupPerTurn('notify_existing_tenants', EXISTING_TENANTS);
  private readonly claimedKeyHashes = perTurn(async (ids) => {
    const pairs = ids.map((id) => id.split('\u0000') as [string, string]);
    const values = [pairs.map(([publisher]) => publisher), pairs.map(([, key]) => key), IDEMPOTENCY_WINDOW_HOURS];
    const { rows } = await this.prisma.publishPool.query<{ publisher: string; key: string; hash: string }>({ name: 'notify_claimed_hashes', text: CLAIMED_HASHES, values });
    return new Map(rows.map((row) => [claimId(row.publisher, row.key), row.hash]));
  });

  constructor(private readonly prisma: PrismaService) {}

  /**
   * Stores a group of notifications in ONE statement, so one implicit transaction:
   * 1. claims the idempotency keys (a key claimed by a concurrent transaction waits for it;
   *    once it commits, the item is not stored here),
   * 2. bumps each stream's counter once by its count, in stream-name order (a row lock per
   *    stream, taken in a fixed order so two groups never deadlock, held until commit),
   * 3. inserts the rows with the offsets that bump handed out.
   * A rollback undoes the bump with the rows: offsets stay dense. Rows whose key was already
   * claimed are missing from the result. The hold of step 2 comes back as measured in the database.
   */
  async insertGroup(items: PreparedNotification[]): Promise<StoredGroup> {
    if (items.length === 0) return { rows: [], lockHoldSeconds: null };
    const col = (pick: (item: PreparedNotification) => string | null): string | null => textArrayParam(items.map(pick));
    const values = [
      col((i) => i.id),
      col((i) => i.stream),
      col((i) => i.scope),
      col((i) => i.tenantId),
      col((i) => i.userId),
      col((i) => i.createdById),
      col((i) => i.title),
      col((i) => i.content),
      col((i) => i.priority),
      col((i) => (i.data === null ? null : JSON.stringify(i.data))),
      col((i) => i.idempotency?.publisher ?? null),
      col((i) => i.idempotency?.key ?? null),
      col((i) => i.idempotency?.hash ?? null),
      IDEMPOTENCY_WINDOW_HOURS,
    ];
    const client = await this.prisma.publishPool.connect();
    let lockHoldSeconds: number | null = null;
    const onNotice = (notice: { message?: string }): void => {
      const held = LOCK_HOLD_NOTICE.exec(notice.message ?? '');
      if (held) lockHoldSeconds = Number(held[1]) / 1e6;
    };
    client.on('notice', onNotice);
    let rows: StoredRowOnTheWire[];
    try {
      // Named: each pool connection parses and plans it once, not on every group.
      ({ rows } = await client.query<StoredRowOnTheWire>({ name: 'notify_insert_group', text: INSERT_GROUP, values }));
      client.off('notice', onNotice);
      client.release();
    } catch (error) {
      // As pool.query does: a connection that failed a statement is discarded, not reused.
      client.off('notice', onNotice);
      client.release(error instanceof Error ? error : true);
      throw error;
    }
    // Only what the database decided comes back (fewer bytes to parse); the rest is the item.
    const byId = new Map(items.map((item) => [item.id, item]));
    const stored = rows.map((row): StoredNotification => {
      const item = byId.get(row.id) as PreparedNotification;
      return {
        id: row.id,
        seq: BigInt(row.seq),
        scope: item.scope,
        title: item.title,
        content: item.content,
        priority: item.priority,
        data: row.data,
        createdAt: row.createdAt,
        stream: row.stream,
        streamOffset: BigInt(row.streamOffset),
        userId: item.userId,
        tenantId: item.tenantId,
        epoch: row.epoch,
      };
    });
    return { rows: stored, lockHoldSeconds };
  }

  /**
   * The request hashes of the keys claimed within the window, by `publisher \0 key`. Every keyed
   * publish asks: the asks of one event-loop turn share one query, as `lookupPerTurn`'s do.
   */
  async claimedHashes(keys: { publisher: string; key: string }[]): Promise<Map<string, string>> {
    return found(this.claimedKeyHashes, keys.map((k) => claimId(k.publisher, k.key)));
  }

  /** What a claimed key stands for, within the window; null when nobody holds it. */
  async claimedKey(publisher: string, key: string): Promise<ClaimedKey | null> {
    const rows = await this.prisma.$queryRaw<(ClaimedKey & { notificationId: string })[]>`
      SELECT request_hash AS "requestHash", notification_id AS "notificationId" FROM notification_idempotency_keys
      WHERE publisher = ${publisher} AND key = ${key} AND created_at >= now() - make_interval(hours => ${IDEMPOTENCY_WINDOW_HOURS})`;
    const claim = rows[0];
    if (!claim) return null;
    const row = await this.prisma.notification.findUnique({
      where: { id: claim.notificationId },
      select: { ...NOTIFICATION_VIEW_FIELDS, userId: true, tenantId: true },
    });
    if (!row) return { requestHash: claim.requestHash, notification: null };
    const heads = await this.heads([row.stream]);
    return { requestHash: claim.requestHash, notification: { ...row, epoch: heads.get(row.stream)?.epoch ?? '' } };
  }

  /**
   * Each stream's epoch and last offset. A stream nobody wrote to yet gets its row (and its
   * epoch) now, so a reader's position names an epoch from the start.
   */
  async heads(streams: string[]): Promise<Map<string, StreamHead>> {
    const found = await this.readHeads(streams);
    const missing = streams.filter((stream) => !found.has(stream));
    if (missing.length === 0) return found;
    await this.createStreams(missing);
    return this.readHeads(streams);
  }

  /**
   * One catch-up page (CATCH_UP_PAGE): per position, its stream's head, the reader's watermark
   * there and up to `limit` rows after it, in one statement; rows are read only for a position of
   * the stream's epoch, behind its head by at most `catchUpMax`. A stream nobody wrote to yet gets
   * its row (and so a new epoch) first, as `heads` does.
   */
  async catchUpPage(viewer: Viewer, positions: { stream: string; epoch: string; offset: bigint }[], limit: number, catchUpMax: bigint): Promise<Map<string, CatchUpLane>> {
    if (positions.length === 0) return new Map();
    const values = [positions.map((p) => p.stream), viewer.userId, positions.map((p) => p.epoch), positions.map((p) => p.offset.toString()), limit + 1, catchUpMax.toString()];
    const read = () => this.prisma.pool.query<HeadRowOnTheWire<{ readOffset: string | null }>>({ name: 'notify_catch_up_page', text: CATCH_UP_PAGE, values });
    let { rows } = await read();
    const named = new Set(rows.map((row) => row.headStream));
    const missing = positions.map((p) => p.stream).filter((stream) => !named.has(stream));
    if (missing.length > 0) {
      await this.createStreams(missing);
      ({ rows } = await read());
    }
    const lanes = new Map<string, CatchUpLane>();
    for (const row of rows) {
      let lane = lanes.get(row.headStream);
      if (!lane) {
        lane = { head: { epoch: row.headEpoch, lastOffset: BigInt(row.headOffset) }, readOffset: row.readOffset === null ? undefined : BigInt(row.readOffset), rows: [], hasMore: false };
        lanes.set(row.headStream, lane);
      }
      if (row.id !== null) lane.rows.push(fromWire(row as ReadRowOnTheWire));
    }
    for (const lane of lanes.values()) {
      lane.rows.sort((a, b) => (a.streamOffset < b.streamOffset ? -1 : a.streamOffset > b.streamOffset ? 1 : 0));
      lane.hasMore = lane.rows.length > limit;
      lane.rows = lane.rows.slice(0, limit);
    }
    return lanes;
  }

  /**
   * The old cursor read as a position: in each stream, the last offset at or below `seq`. Within
   * one stream seq grows with the offset; across streams seq does not prove commit order.
   */
  async offsetsAtCursor(streams: string[], seq: string): Promise<Map<string, bigint>> {
    const rows = await this.prisma.notification.groupBy({
      by: ['stream'],
      where: { stream: { in: streams }, seq: { lte: parseCursor(seq) } },
      _max: { streamOffset: true },
    });
    return new Map(rows.map((row) => [row.stream, row._max.streamOffset ?? 0n]));
  }

  /** Oldest first after the seq cursor `after` (the old listing order). */
  async listAfter(viewer: Viewer, after: string, limit: number): Promise<{ rows: ReadRow[]; hasMore: boolean }> {
    const rows = await this.prisma.notification.findMany({
      where: { AND: [visibleTo(viewer), { seq: { gt: parseCursor(after) } }] },
      orderBy: { seq: 'asc' },
      take: limit + 1,
      select: { ...NOTIFICATION_VIEW_FIELDS, reads: { where: { userId: viewer.userId }, select: { userId: true } } },
    });
    return { rows: rows.slice(0, limit).map(withReadFlag), hasMore: rows.length > limit };
  }

  /**
   * Newest first, with the streams' heads read in the same snapshot: a page and a position that
   * agree. Each stream the viewer reads is one backward range of the (stream, offset) index
   * (within a stream seq grows with the offset), merged by seq: an ADMIN's page never sorts its
   * tenant's whole history, which an OR over user and tenant rows ordered by seq would.
   */
  async listLatest(viewer: Viewer, streams: string[], limit: number): Promise<{ rows: ReadRow[]; hasMore: boolean; heads: Map<string, StreamHead> }> {
    const read = () => this.prisma.pool.query<HeadRowOnTheWire<object>>({ name: 'notify_latest_with_heads', text: LATEST_WITH_HEADS, values: [streams, viewer.userId, limit + 1] });
    let { rows } = await read();
    const named = new Set(rows.map((row) => row.headStream));
    const missing = streams.filter((stream) => !named.has(stream));
    if (missing.length > 0) {
      await this.createStreams(missing);
      ({ rows } = await read());
    }
    const heads = new Map<string, StreamHead>();
    const found: ReadRow[] = [];
    for (const row of rows) {
      heads.set(row.headStream, { epoch: row.headEpoch, lastOffset: BigInt(row.headOffset) });
      if (row.id !== null) found.push(fromWire(row as ReadRowOnTheWire));
    }
    found.sort((a, b) => (a.seq > b.seq ? -1 : a.seq < b.seq ? 1 : 0));
    return { rows: found.slice(0, limit), hasMore: found.length > limit, heads };
  }

  /**
   * The recipients' tenants (absent: no such user). The lookups of the requests that reach this
   * within one event-loop turn share one query: under load that is one query per turn, not one
   * per publish.
   */
  async tenantsOfUsers(userIds: string[]): Promise<Map<string, string>> {
    return found(this.recipientTenants, userIds);
  }

  /** The recipient's tenant, or null when there is no such user. */
  async tenantOfUser(userId: string): Promise<string | null> {
    return (await this.tenantsOfUsers([userId])).get(userId) ?? null;
  }

  private async readHeads(streams: string[]): Promise<Map<string, StreamHead>> {
    const { rows } = await this.prisma.pool.query<{ stream: string; epoch: string; lastOffset: string }>({ name: 'notify_stream_heads', text: STREAM_HEADS, values: [streams] });
    return new Map(rows.map((row) => [row.stream, { epoch: row.epoch, lastOffset: BigInt(row.lastOffset) }]));
  }

  private async createStreams(streams: string[]): Promise<void> {
    await this.prisma.pool.query({ name: 'notify_create_streams', text: CREATE_STREAMS, values: [streams, streams.map(() => newEpoch())] });
  }

  /** The TENANT audiences that exist (a tenant may be deleted, so nothing is cached). */
  async existingTenants(tenantIds: string[]): Promise<Set<string>> {
    return new Set((await found(this.tenantsThatExist, tenantIds)).keys());
  }

  /**
   * A lookup by id (`statement` answers `id` and `value`) for every publish: the ids asked within
   * one event-loop turn share one query, and nothing is cached, so each publish reads the table as
   * it is now. An id that is no UUID names nothing (and fails no one else's lookup). Straight on
   * the publish lane, a named statement: Prisma's query compiler cost more than the query.
   */
  private lookupPerTurn(name: string, statement: string): DataLoader<string, string | null> {
    return perTurn(async (ids) => {
      const valid = ids.filter((id) => UUID.test(id));
      const rows = valid.length === 0 ? [] : (await this.prisma.publishPool.query<{ id: string; value: string }>({ name, text: statement, values: [valid] })).rows;
      return new Map(rows.map((row) => [row.id, row.value]));
    });
  }
}

/** A lookup whose asks within one event-loop turn go to `readMany` together; nothing is cached. */
function perTurn(readMany: (ids: readonly string[]) => Promise<Map<string, string>>): DataLoader<string, string | null> {
  const read = async (ids: readonly string[]): Promise<(string | null)[]> => {
    const byId = await readMany(ids);
    return ids.map((id) => byId.get(id) ?? null);
  };
  return new DataLoader(read, { cache: false, batchScheduleFn: (run) => setImmediate(run), maxBatchSize: 1000 });
}

/** One idempotency claim's id: the publisher (a user id or the service's) and its key (IDEMPOTENCY_KEY_PATTERN): NUL is in neither. */
function claimId(publisher: string, key: string): string {
  return `${publisher}\u0000${key}`;
}

/** What `lookup` found for each of `ids` (an id not found is absent); a failed query throws. */
async function found(lookup: DataLoader<string, string | null>, ids: string[]): Promise<Map<string, string>> {
  const unique = [...new Set(ids)];
  const answers = await lookup.loadMany(unique);
  const values = new Map<string, string>();
  for (const [index, answer] of answers.entries()) {
    // Not `instanceof Error`: node's socket errors (a refused connection) may come from another realm.
    if (answer !== null && typeof answer !== 'string') throw answer;
    if (answer !== null) values.set(unique[index] as string, answer);
  }
  return values;
}

/** A fresh epoch: 12 characters of [0-9a-f] (the epoch alphabet is [A-Za-z0-9]{8,16}). */
export function newEpoch(): string {
  return randomBytes(6).toString('hex');
}

function withReadFlag<T extends NotificationRow & { reads: unknown[] }>(row: T): ReadRow {
  const { reads, ...rest } = row;
  return { ...rest, read: reads.length > 0 };
}

function parseCursor(cursor: string): bigint {
  const value = BigInt(cursor);
  return value > MAX_BIGINT ? MAX_BIGINT : value;
}
