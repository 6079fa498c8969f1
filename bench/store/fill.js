'use strict';
/**
 * Fills the store bench's database quickly with generate_series: USERS users over TENANTS
 * tenants (the first user of each tenant is its ADMIN), and notifications appended in steps.
 * Row g of the user rows belongs to user (g-1) % USERS at offset (g-1) / USERS + 1, row g of the
 * tenant rows to tenant (g-1) % TENANTS at offset (g-1) / TENANTS + 1: offsets stay dense per
 * stream from one step to the next without a window function. Every index of the two tables written (primary
 * keys included) is dropped before a step and built again after it, and the step runs with
 * foreign-key triggers off (session_replication_role = replica; the generated rows are consistent
 * by construction): building an index once is far cheaper than maintaining it row by row, and a
 * random-uuid primary key maintained row by row is most of a naive fill's time. The rebuilt
 * indexes and constraints are the migrations' own, so the measured database is the same.
 */

const USERS = 100_000;
const TENANTS = 100;
/** Share of notifications that are tenant broadcasts; the rest target one user. */
const TENANT_SHARE = 0.1;

/** Every index of `notifications` but its primary key, as the migrations create them. */
const INDEXES = [
  ['notifications_seq_key', 'CREATE UNIQUE INDEX "notifications_seq_key" ON "notifications"("seq")'],
  ['notifications_user_id_seq_idx', 'CREATE INDEX "notifications_user_id_seq_idx" ON "notifications"("user_id", "seq")'],
  ['notifications_tenant_id_scope_seq_idx', 'CREATE INDEX "notifications_tenant_id_scope_seq_idx" ON "notifications"("tenant_id", "scope", "seq")'],
  ['notifications_scope_seq_idx', 'CREATE INDEX "notifications_scope_seq_idx" ON "notifications"("scope", "seq")'],
  ['notifications_stream_stream_offset_key', 'CREATE UNIQUE INDEX "notifications_stream_stream_offset_key" ON "notifications"("stream", "stream_offset")'],
  ['notifications_created_at_idx', 'CREATE INDEX "notifications_created_at_idx" ON "notifications"("created_at")'],
];

/** Every index of `notification_reads`, and the constraints that need the indexes dropped above. */
const READ_INDEXES = [
  ['notification_reads_notification_id_idx', 'CREATE INDEX "notification_reads_notification_id_idx" ON "notification_reads"("notification_id")'],
];
const DROP_KEYS = [
  'ALTER TABLE "notification_reads" DROP CONSTRAINT IF EXISTS "notification_reads_notification_id_fkey"',
  'ALTER TABLE "notification_reads" DROP CONSTRAINT IF EXISTS "notification_reads_pkey"',
  'ALTER TABLE "notifications" DROP CONSTRAINT IF EXISTS "notifications_pkey"',
];
const ADD_KEYS = [
  'ALTER TABLE "notifications" ADD CONSTRAINT "notifications_pkey" PRIMARY KEY ("id")',
  'ALTER TABLE "notification_reads" ADD CONSTRAINT "notification_reads_pkey" PRIMARY KEY ("user_id","notification_id")',
  'ALTER TABLE "notification_reads" ADD CONSTRAINT "notification_reads_notification_id_fkey" FOREIGN KEY ("notification_id") REFERENCES "notifications"("id") ON DELETE CASCADE ON UPDATE CASCADE',
];

/** @param {import('pg').Client} client */
async function createPeople(client) {
  await client.query(`
    CREATE TABLE bench_tenants AS SELECT i, gen_random_uuid() AS id FROM generate_series(0, ${TENANTS - 1}) i;
    INSERT INTO tenants (id, slug, name) SELECT id, 'bench-' || i, 'Bench ' || i FROM bench_tenants;
    CREATE TABLE bench_users AS
      SELECT u.i, gen_random_uuid() AS id, t.id AS tenant_id, (u.i < ${TENANTS}) AS admin
      FROM generate_series(0, ${USERS - 1}) u(i) JOIN bench_tenants t ON t.i = u.i % ${TENANTS};
    ALTER TABLE bench_users ADD PRIMARY KEY (i);
    INSERT INTO users (id, email, password_hash, role, is_active, tenant_id, updated_at)
      SELECT id, 'u' || i || '@store.bench', 'bench-no-login', CASE WHEN admin THEN 'ADMIN' ELSE 'USER' END::"Role", true, tenant_id, now() FROM bench_users;
    ANALYZE bench_users; ANALYZE bench_tenants;`);
}

/**
 * Appends notifications until the table holds `total`, and a read row for every third user row.
 * @param {import('pg').Client} client @param {number} from rows already there @param {number} total
 */
async function fillTo(client, from, total) {
  const tenantFrom = Math.round(from * TENANT_SHARE);
  const tenantTo = Math.round(total * TENANT_SHARE);
  const userFrom = from - tenantFrom;
  const userTo = total - tenantTo;
  // The bench's own database and session: the service's pool never sees these settings.
  await client.query(`SET session_replication_role = replica`);
  await client.query(`SET maintenance_work_mem = '1GB'`);
  for (const ddl of DROP_KEYS) await client.query(ddl);
  for (const [name] of [...INDEXES, ...READ_INDEXES]) await client.query(`DROP INDEX IF EXISTS "${name}"`);
  // created_at spread over the last 80 days (inside the default retention), older rows first.
  await client.query(
    `INSERT INTO notifications (id, scope, tenant_id, user_id, title, content, priority, stream, stream_offset, created_at)
     SELECT gen_random_uuid(), 'USER', u.tenant_id, u.id, 'Bench notification ' || g, 'Body of bench notification ' || g, 'medium',
            'user:' || u.id, (g - 1) / ${USERS} + 1, now() - interval '80 days' * (1 - g::float8 / $2)
     FROM generate_series($1::bigint + 1, $2::bigint) g JOIN bench_users u ON u.i = (g - 1) % ${USERS}`,
    [userFrom, userTo],
  );
  await client.query(
    `INSERT INTO notifications (id, scope, tenant_id, title, content, priority, stream, stream_offset, created_at)
     SELECT gen_random_uuid(), 'TENANT', t.id, 'Bench broadcast ' || g, 'Body of bench broadcast ' || g, 'medium',
            'tenant:' || t.id, (g - 1) / ${TENANTS} + 1, now() - interval '80 days' * (1 - g::float8 / $2)
     FROM generate_series($1::bigint + 1, $2::bigint) g JOIN bench_tenants t ON t.i = (g - 1) % ${TENANTS}`,
    [tenantFrom, tenantTo],
  );
  // A third of the user rows read (by the recipient), added for the new rows only (the offsets
  // above the previous step's; no duplicate, which the primary key built below proves).
  await client.query(
    `INSERT INTO notification_reads (user_id, notification_id)
     SELECT user_id, id FROM notifications WHERE scope = 'USER' AND stream_offset % 3 = 0 AND stream_offset > ($1::bigint / ${USERS})`,
    [userFrom],
  );
  for (const [, ddl] of [...INDEXES, ...READ_INDEXES]) await client.query(ddl);
  for (const ddl of ADD_KEYS) await client.query(ddl);
  await client.query(`RESET session_replication_role`);
  await client.query(`RESET maintenance_work_mem`);
  // Stream heads: user i holds ceil((userTo - i) / USERS) rows, tenant j ceil((tenantTo - j) / TENANTS).
  await client.query(
    `INSERT INTO notification_streams (stream, epoch, last_offset)
     SELECT 'user:' || id, substr(md5(random()::text), 1, 12), ($1::bigint - i + ${USERS} - 1) / ${USERS} FROM bench_users WHERE i < $1::bigint
     UNION ALL
     SELECT 'tenant:' || id, substr(md5(random()::text), 1, 12), ($2::bigint - i + ${TENANTS} - 1) / ${TENANTS} FROM bench_tenants WHERE i < $2::bigint
     ON CONFLICT (stream) DO UPDATE SET last_offset = EXCLUDED.last_offset`,
    [userTo, tenantTo],
  );
  await client.query(`SELECT setval(pg_get_serial_sequence('notifications', 'seq'), (SELECT max(seq) FROM notifications))`);
  await client.query('VACUUM ANALYZE notifications');
  await client.query('VACUUM ANALYZE notification_reads');
  await client.query('ANALYZE notification_streams');
}

module.exports = { USERS, TENANTS, createPeople, fillTo };
