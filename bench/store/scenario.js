'use strict';
/**
 * `npm run bench -- --store [--quick]`: how the cost of the store's queries grows with its size
 * (issue 20). A database of its own is filled with generate_series (bench/store/fill.js) to each
 * size in turn; at each size the gateway's own NotificationService (the built app, in this
 * process, no HTTP in between) runs every operation SAMPLES times and the p50/p99 are taken, and
 * EXPLAIN (ANALYZE, BUFFERS) of the SQL each operation runs is written to the report.
 * Sizes: 1M then 10M notifications; `--quick`: 1M then 3M; `--store-sizes=1000000,3000000` overrides.
 * The report is written after every size, so a run stopped during a long step keeps the steps done.
 */

const path = require('node:path');
const { mkdirSync, writeFileSync } = require('node:fs');
const { Client } = require('pg');
const { createPeople, fillTo, USERS, TENANTS } = require('./fill.js');

const SAMPLES = 60;
const TARGET_RATIO = 1.5;

/** @param {number[]} values @param {number} q */
function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0;
}

/** @param {{ quick: boolean, root: string, adminUrl: string, log: (line: string) => void, sizes?: number[] }} options */
async function runStoreBench(options) {
  const { root, log } = options;
  const sizes = options.sizes ?? (options.quick ? [1_000_000, 3_000_000] : [1_000_000, 10_000_000]);
  const name = `ngw_store_bench_${Date.now()}`;
  const admin = new Client({ connectionString: options.adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(options.adminUrl);
  url.pathname = `/${name}`;
  const dbUrl = url.toString();
  const client = new Client({ connectionString: dbUrl });
  /** @type {any} */
  let app;
  const rows = [];
  const explains = [];
  try {
    const { applyMigrations } = require(`${root}/apps/backend/dist/core/prisma/migrator.js`);
    await applyMigrations(dbUrl);
    await client.connect();
    await createPeople(client);
    log(`store bench: database ${name}, ${USERS} users over ${TENANTS} tenants`);

    const { loadConfig } = require(`${root}/apps/backend/dist/config/load-config.js`);
    const { createApp } = require(`${root}/apps/backend/dist/bootstrap.js`);
    const { NotificationService } = require(`${root}/apps/backend/dist/notifications/notification.service.js`);
    const { config } = loadConfig({ NODE_ENV: 'test', DATABASE_URL: dbUrl, JWT_SECRET: 'store-bench-secret-0123456789abcdef0123456789', LOG_LEVEL: 'silent' });
    app = await createApp(config);
    await app.init();
    const service = app.get(NotificationService);
    const { READ_STATE_SQL } = require(`${root}/apps/backend/dist/notifications/read-state/read-state.repository.js`);

    let filled = 0;
    for (const size of sizes) {
      const started = Date.now();
      await fillTo(client, filled, size);
      filled = size;
      log(`store bench: filled to ${size.toLocaleString('en')} notifications in ${Math.round((Date.now() - started) / 1000)} s`);
      const measured = await measure(client, service, size, READ_STATE_SQL);
      rows.push({ size, ...measured.figures });
      explains.push({ size, plans: measured.plans, load: require('node:os').loadavg().map((v) => v.toFixed(1)).join(' ') });
      if (rows.length < sizes.length) write(root, { sizes, samples: SAMPLES, rows, ratios: ratios(rows), explains }, log);
    }
  } finally {
    await app?.close().catch(() => undefined);
    await client.end().catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }
  const result = { sizes, samples: SAMPLES, rows, ratios: ratios(rows), explains };
  process.stdout.write(`\n${write(root, result, log)}\n`);
  return result;
}

/** Writes the JSON and the markdown report of the sizes measured so far; returns the markdown. */
function write(/** @type {string} */ root, /** @type {any} */ result, /** @type {(line: string) => void} */ log) {
  const report = markdown(result);
  const dir = path.join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'store-latest.json'), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(path.join(dir, 'store-latest.md'), report);
  log(`wrote bench/results/store-latest.json and store-latest.md (${result.rows.length} of ${result.sizes.length} sizes)`);
  return report;
}

/** Operations, each with the viewer it runs as and the SQL it stands for (for EXPLAIN). */
async function measure(/** @type {Client} */ client, /** @type {any} */ service, /** @type {number} */ size, /** @type {Record<string, string>} */ SQL) {
  // Viewers: users well inside the population, admins of every tenant (the first 100 users).
  const users = (await client.query(`SELECT id, tenant_id FROM bench_users WHERE NOT admin AND i % 997 = 1 ORDER BY i LIMIT ${SAMPLES}`)).rows;
  const admins = (await client.query(`SELECT id, tenant_id FROM bench_users WHERE admin ORDER BY i LIMIT ${SAMPLES}`)).rows;
  const asUser = (/** @type {any} */ row) => ({ userId: row.id, tenantId: row.tenant_id, role: 'USER' });
  const asAdmin = (/** @type {any} */ row) => ({ userId: row.id, tenantId: row.tenant_id, role: 'ADMIN' });

  /** @type {Record<string, { p50: number, p99: number }>} */
  const figures = {};
  const time = async (/** @type {string} */ label, /** @type {(i: number) => Promise<unknown>} */ op) => {
    await op(0); // warm
    const took = [];
    for (let i = 0; i < SAMPLES; i += 1) {
      const start = process.hrtime.bigint();
      await op(i);
      took.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    figures[label] = { p50: round(quantile(took, 0.5)), p99: round(quantile(took, 0.99)) };
  };

  // sync-100-missed: an ADMIN 100 behind in its tenant's stream, at the head of its own.
  const behind = async (/** @type {any} */ row) => {
    const latest = await service.sync(asAdmin(row), {});
    return latest.streams.map((/** @type {any} */ s) => (s.stream.startsWith('tenant:') ? { ...s, offset: String(Math.max(0, Number(s.offset) - 100)) } : s));
  };
  /** @type {any[]} */
  const positions = [];
  for (const row of admins) positions.push(await behind(row));
  await time('sync-100-missed', (i) => service.sync(asAdmin(admins[i % admins.length]), { position: positions[i % positions.length], limit: 100 }));
  await time('latest page (USER)', (i) => service.list(asUser(users[i % users.length]), { limit: 50 }));
  await time('latest page (ADMIN)', (i) => service.list(asAdmin(admins[i % admins.length]), { limit: 50 }));
  await time('unread count (USER)', (i) => service.unreadCount(asUser(users[i % users.length])));
  await time('unread count (ADMIN)', (i) => service.unreadCount(asAdmin(admins[i % admins.length])));
  const targets = (await client.query(`SELECT n.id, n.user_id FROM notifications n JOIN bench_users u ON u.id = n.user_id AND NOT u.admin AND u.i % 991 = 3 WHERE n.stream_offset = 1 LIMIT ${SAMPLES + 1}`)).rows;
  await time('mark-read', (i) => {
    const target = targets[i % targets.length];
    return service.markRead({ userId: target.user_id, tenantId: '', role: 'USER' }, target.id);
  });
  await time('mark-all-read (USER)', (i) => service.markAllRead(asUser(users[i % users.length])));
  // Every admin once per size (a second time there is nothing left to mark).
  const adminMarks = admins.slice(0, Math.min(admins.length, 30));
  await time('mark-all-read (ADMIN)', (i) => service.markAllRead(asAdmin(adminMarks[i % adminMarks.length])));
  // Publish to recipients outside the filled population, so the next fill step's offsets stay free.
  const recipients = (
    await client.query(
      `INSERT INTO users (id, email, password_hash, role, is_active, tenant_id, updated_at)
       SELECT gen_random_uuid(), 'p' || g || '-' || $1::bigint || '@store.bench', 'bench-no-login', 'USER', true, (SELECT id FROM bench_tenants WHERE i = 0), now()
       FROM generate_series(1, ${SAMPLES}) g RETURNING id`,
      [size],
    )
  ).rows;
  await time('publish (sendToUser)', (i) => service.sendToUser(recipients[i % recipients.length].id, { title: 'store bench', content: 'c' }));

  const adminRow = admins[1];
  const tenantStream = `tenant:${adminRow.tenant_id}`;
  const head = Number((await client.query('SELECT last_offset FROM notification_streams WHERE stream = $1', [tenantStream])).rows[0].last_offset);
  /** @type {Record<string, string>} */
  const plans = {};
  const explain = async (/** @type {string} */ label, /** @type {string} */ sql, /** @type {unknown[]} */ params) => {
    await client.query('BEGIN');
    try {
      const out = await client.query(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params);
      plans[label] = out.rows.map((/** @type {any} */ r) => r['QUERY PLAN']).join('\n');
    } finally {
      await client.query('ROLLBACK');
    }
  };
  const READ = `LEFT JOIN notification_reads r ON r.notification_id = n.id AND r.user_id = $2::uuid`;
  // The contracts package as built by `npm run build` (its types exist only once built).
  const WINDOW = require(`${path.join(__dirname, '..', '..', 'packages', 'contracts', 'dist', 'index.js')}`).NOTIFICATION_LIMITS.unreadCountWindow;
  // A user and an admin never marked by the timed runs: their mark-all-read is a first call.
  const fresh = (await client.query(`SELECT id, tenant_id FROM bench_users WHERE NOT admin AND i % 997 = 5 ORDER BY i LIMIT 1`)).rows[0];
  const freshAdmin = admins[admins.length - 1];
  const adminStreams = [`user:${adminRow.id}`, tenantStream];
  await explain('sync-100-missed (tenant stream after offset)', `SELECT n.*, r.user_id IS NOT NULL AS read FROM notifications n ${READ} WHERE n.stream = $1 AND n.stream_offset > $3 ORDER BY n.stream_offset LIMIT 101`, [tenantStream, adminRow.id, head - 100]);
  await explain('latest page (one stream, per stream of the reader)', `SELECT n.*, r.user_id IS NOT NULL AS read FROM notifications n ${READ} WHERE n.stream = $1 ORDER BY n.stream_offset DESC LIMIT 51`, [tenantStream, adminRow.id]);
  await explain('read watermarks of a page (ADMIN: user and tenant stream)', SQL.holdingMarks, [adminRow.id, adminStreams]);
  await explain('unread count (ADMIN, after its mark-all-read)', SQL.unreadCount, [adminRow.id, adminStreams, WINDOW]);
  await explain('unread count (ADMIN, never marked: the full window)', SQL.unreadCount, [freshAdmin.id, [`user:${freshAdmin.id}`, `tenant:${freshAdmin.tenant_id}`], WINDOW]);
  await explain('unread count (USER, never marked)', SQL.unreadCount, [fresh.id, [`user:${fresh.id}`], WINDOW]);
  await explain(
    'mark-read (visibility check)',
    `SELECT id FROM notifications WHERE id = $1::uuid AND ((scope = 'USER' AND user_id = $2::uuid)) LIMIT 1`,
    [targets[0].id, targets[0].user_id],
  );
  await explain('mark-read (read row unless under the watermark)', SQL.markOneRead, [targets[1].user_id, targets[1].id]);
  await explain('mark-all-read (ADMIN, first call, rolled back)', SQL.markAllRead, [freshAdmin.id, [`user:${freshAdmin.id}`, `tenant:${freshAdmin.tenant_id}`], WINDOW]);
  await explain('mark-all-read (USER, first call, rolled back)', SQL.markAllRead, [fresh.id, [`user:${fresh.id}`], WINDOW]);
  // Baseline, same database and run: the statement mark-all-read ran before read watermarks
  // (one notification_reads row per unread notification the reader can see).
  await explain(
    'baseline: mark-all-read by read rows (ADMIN, first call, rolled back)',
    `INSERT INTO notification_reads (user_id, notification_id) SELECT $1::uuid, n.id FROM notifications n
     WHERE (n.scope = 'USER' AND n.user_id = $1::uuid) OR (n.scope = 'TENANT' AND n.tenant_id = $2::uuid) ON CONFLICT DO NOTHING`,
    [freshAdmin.id, freshAdmin.tenant_id],
  );
  await explain(
    'baseline: mark-all-read by read rows (USER, first call, rolled back)',
    `INSERT INTO notification_reads (user_id, notification_id) SELECT $1::uuid, n.id FROM notifications n WHERE n.scope = 'USER' AND n.user_id = $1::uuid ON CONFLICT DO NOTHING`,
    [fresh.id],
  );
  return { figures, plans, size };
}

function ratios(/** @type {any[]} */ rows) {
  if (rows.length < 2) return {};
  const [first, last] = [rows[0], rows[rows.length - 1]];
  /** @type {Record<string, { p50: number, p99: number }>} */
  const out = {};
  for (const key of Object.keys(first)) {
    if (key === 'size') continue;
    out[key] = { p50: round(last[key].p50 / Math.max(first[key].p50, 0.001)), p99: round(last[key].p99 / Math.max(first[key].p99, 0.001)) };
  }
  return out;
}

function markdown(/** @type {any} */ result) {
  const [first, last] = [result.rows[0], result.rows[result.rows.length - 1]];
  const label = (/** @type {number} */ n) => `${n / 1e6}M`;
  /** @type {string[]} */
  const sizes = result.rows.map((/** @type {any} */ row) => label(row.size));
  const lines = [
    `### Store growth, ${sizes.join(' → ')} notifications (${USERS.toLocaleString('en')} users, ${TENANTS} tenants) — PROVISIONAL`,
    '',
    `p50 / p99 in ms over ${result.samples} calls of the gateway's NotificationService (in process, no HTTP); target: no figure grows more than ${TARGET_RATIO}× from ${label(first.size)} to ${label(last.size)}.`,
    '',
    `| operation | ${sizes.map((size) => `${size} p50 / p99`).join(' | ')} | ratio p50 / p99 | within ${TARGET_RATIO}× |`,
    `|---|${sizes.map(() => '---|').join('')}---|---|`,
  ];
  for (const key of Object.keys(first)) {
    if (key === 'size') continue;
    const ratio = result.ratios[key];
    const ok = ratio ? ratio.p50 <= TARGET_RATIO && ratio.p99 <= TARGET_RATIO : false;
    const cells = result.rows.map((/** @type {any} */ row) => `${row[key].p50} / ${row[key].p99}`);
    lines.push(`| ${key} | ${cells.join(' | ')} | ${ratio?.p50 ?? '–'} / ${ratio?.p99 ?? '–'} | ${ok ? 'yes' : 'no'} |`);
  }
  // Wall-clock figures follow the machine's load; the pages a query touches do not.
  const [firstPlans] = [result.explains[0].plans];
  lines.push(
    '',
    `Database work per query, from EXPLAIN (ANALYZE, BUFFERS): shared buffers touched (hit + read) and execution time; load average (1/5/15 min) when each size was measured: ${result.explains.map((/** @type {any} */ e) => `${label(e.size)} ${e.load ?? '?'}`).join(', ')}.`,
    '',
    `| query | ${sizes.map((size) => `${size} buffers / ms`).join(' | ')} | ratio buffers ${label(first.size)} → ${label(last.size)} |`,
    `|---|${sizes.map(() => '---|').join('')}---|`,
  );
  for (const key of Object.keys(firstPlans)) {
    /** @type {{ buffers: number, ms: number }[]} */
    const costs = result.explains.map((/** @type {any} */ e) => planCost(e.plans[key] ?? ''));
    const [a, b] = [costs[0], costs[costs.length - 1]];
    lines.push(`| ${key} | ${costs.map((c) => `${c.buffers} / ${c.ms}`).join(' | ')} | ${round(b.buffers / Math.max(a.buffers, 1))} |`);
  }
  lines.push('');
  for (const { size, plans } of result.explains) {
    lines.push(`#### EXPLAIN (ANALYZE, BUFFERS) at ${label(size)}`, '');
    for (const [name, plan] of Object.entries(plans)) lines.push(`${name}:`, '```', plan, '```', '');
  }
  return `${lines.join('\n')}\n`;
}

/** The top node's shared buffers (hit + read) and the execution time of a plan's text. @param {string} plan */
function planCost(plan) {
  const buffers = /Buffers: shared((?: \w+=\d+)+)/.exec(plan)?.[1] ?? '';
  const count = (/** @type {string} */ kind) => Number(new RegExp(`${kind}=(\\d+)`).exec(buffers)?.[1] ?? 0);
  const ms = Number(/Execution Time: ([\d.]+) ms/.exec(plan)?.[1] ?? 0);
  return { buffers: count('hit') + count('read'), ms: round(ms) };
}

function round(/** @type {number} */ value) {
  return Math.round(value * 100) / 100;
}

module.exports = { runStoreBench };
