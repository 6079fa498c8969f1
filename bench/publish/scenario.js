'use strict';
/**
 * Scenario 6 of `npm run bench` (alone: `npm run bench -- --publish`): publishing, the gateway
 * beside a floor server (bench/publish/floor-server.js: no auth, plain INSERT … RETURNING then
 * emit) measured in the same run, each ratio reported.
 *
 *   a) single REST publishes at fixed open-loop rates, user-targeted, received by sockets
 *      (latency publish → receive, lost, unsent over the in-flight cap), the gateway and the floor
 *      alternating at each rate;
 *   b) batches over HTTP (POST /notifications/batch vs the floor's /emit-batch);
 *   c) in-process bulk publishing (NotificationService.sendMany vs one unnest INSERT per batch);
 *   d) the stream-lock hold time per group and per notification, from the gateway's own
 *      notify_stream_lock_hold_seconds histogram (timed inside PostgreSQL, from the first stream
 *      row lock granted to the end of the statement; see docs/DELIVERY.md);
 *   e) two gateway instances publishing at once (single publishes, then batches), beside two floor
 *      servers in the old design's mode (FLOOR_ADVISORY_LOCK=1: one cluster-wide advisory lock per
 *      notification): the serialised hold per notification of each, and their ratio.
 */

const path = require('node:path');
const { round } = require('../lib/util.js');
const { holdFigures, holdBetween } = require('./lock-hold.js');

/**
 * @typedef {{
 *   quick: boolean, phases: Set<string>, log: (m: string) => void, step: (label: string) => void, timeLeft: () => number,
 *   children: typeof import('../lib/children.js'), logs: string, results: string, root: string,
 *   db: { url: string, tenantId: string, users: { id: string }[], admins: { id: string }[] },
 *   jwtSecret: string, publisherToken: (i: number) => string, redisEnv: Record<string, string>,
 *   startOurs: (name: string, env?: Record<string, string>) => Promise<any>, stopServer: (server: any) => Promise<void>,
 *   connectAll: (kind: 'ours'|'bare', url: string, users: any[]) => Promise<any>, closeAllConnections: () => Promise<void>,
 *   runRate: (c: any) => Promise<any>, userList: (n: number) => any[],
 * }} Context
 */

/**
 * Every measured phase starts with the same warm-up for the gateway and the floor (JIT, pools):
 * `warmupMs` at the phase's rate (single publishes: at most `warmupRate`). Batches and sendMany
 * run closed loop (the most each sustains) and then open loop at `openRate` rows/s (the latency a
 * publisher sees at that offered rate).
 */
const PLAN = {
  quick: { receivers: 50, rates: [1000, 2000, 5000], durationMs: 2000, drainMs: 3000, warmupRate: 1000, warmupMs: 3000, batch: { size: 500, concurrency: 4, durationMs: 2000, warmupMs: 1000, openRate: 10_000 }, inProcess: { size: 500, concurrency: 4, durationMs: 2000, warmupMs: 1000, openRate: 10_000 }, two: { concurrency: 16, batch: { size: 500, concurrency: 2 }, durationMs: 2000, warmupMs: 1000 } },
  full: { receivers: 200, rates: [1000, 2000, 5000], durationMs: 10_000, drainMs: 8000, warmupRate: 1000, warmupMs: 5000, batch: { size: 500, concurrency: 4, durationMs: 10_000, warmupMs: 3000, openRate: 10_000 }, inProcess: { size: 500, concurrency: 4, durationMs: 10_000, warmupMs: 3000, openRate: 10_000 }, two: { concurrency: 16, batch: { size: 500, concurrency: 2 }, durationMs: 10_000, warmupMs: 3000 } },
};

/** @param {Context} ctx @param {string} [name] @param {Record<string, string>} [extraEnv] */
async function startFloor(ctx, name = 'floor', extraEnv = {}) {
  const port = await ctx.children.freePort();
  const logFile = path.join(ctx.logs, `${name}.log`);
  const child = ctx.children.spawnNode({
    name,
    script: path.join(__dirname, 'floor-server.js'),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'production', PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: ctx.db.url, ...extraEnv },
    cwd: ctx.results,
    logFile,
  });
  const url = `http://127.0.0.1:${port}`;
  await ctx.children.waitReady(child, `${url}/health/ready`, 30_000, logFile);
  return { name, kind: 'bare', child, pid: child.pid, url, logFile };
}

/** @param {Context} ctx @param {string} name */
async function startBulkChild(ctx, name) {
  const child = ctx.children.spawnNode({ name, script: path.join(__dirname, 'bulk-load.js'), env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' }, cwd: ctx.results, logFile: path.join(ctx.logs, `${name}.log`), ipc: true });
  const client = ctx.children.ipcClient(child, name, () => undefined);
  await client.ready;
  return client;
}

/** The lock-hold figures from a server's /metrics text. @param {string} url */
async function lockHoldOf(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (/** @type {string} */ name) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text)?.[1] ?? 0);
  const sum = value('notify_stream_lock_hold_seconds_sum');
  const groups = value('notify_stream_lock_hold_seconds_count');
  const notifications = value('notify_group_commit_notifications_total');
  return holdFigures({ groups, notifications, holdSeconds: sum });
}

/** Both instances' hold figures, summed. @param {string[]} urls */
async function summedHold(urls) {
  const all = await Promise.all(urls.map(lockHoldOf));
  return { groups: all.reduce((n, x) => n + x.groups, 0), notifications: all.reduce((n, x) => n + x.notifications, 0), holdSeconds: all.reduce((n, x) => n + x.holdSeconds, 0) };
}

/**
 * e) Two instances at once: the gateway's serialised hold per notification (its group statements'
 * time over the notifications they stored, both instances summed), then the old design's (two
 * floor servers taking the one advisory lock per notification) under the same single-publish load.
 * @param {Context} ctx @param {any} plan @param {string[]} targets
 */
async function twoInstances(ctx, plan, targets) {
  const t = plan.two;
  const out = /** @type {Record<string, any>} */ ({});
  const load = await startBulkChild(ctx, 'two-load');
  try {
    const a = await ctx.startOurs('ours-two-a', ctx.redisEnv);
    const b = await ctx.startOurs('ours-two-b', ctx.redisEnv);
    try {
      for (const [label, cmd, args] of /** @type {const} */ ([
        ['singles', 'httpSingles', { concurrency: t.concurrency }],
        ['batches', 'httpBatch', t.batch],
      ])) {
        ctx.step(`publish: two gateways, ${label}`);
        const run = (/** @type {number} */ durationMs) => Promise.all([a, b].map((server, i) => load.call(cmd, { kind: 'ours', url: server.url, token: ctx.publisherToken(i), targets, durationMs, ...args }, durationMs + 60_000)));
        await run(t.warmupMs);
        const before = await summedHold([a.url, b.url]);
        const runs = /** @type {any[]} */ (await run(t.durationMs));
        out[label] = { rowsPerSec: runs.reduce((n, r) => n + r.rowsPerSec, 0), p99Ms: Math.max(...runs.map((r) => r.batchMs.p99 ?? 0)), hold: holdBetween(before, await summedHold([a.url, b.url])) };
      }
    } finally {
      await ctx.stopServer(a);
      await ctx.stopServer(b);
    }
    const floors = [await startFloor(ctx, 'legacy-a', { FLOOR_ADVISORY_LOCK: '1' }), await startFloor(ctx, 'legacy-b', { FLOOR_ADVISORY_LOCK: '1' })];
    try {
      ctx.step('publish: two old-design floors, singles');
      const run = (/** @type {number} */ durationMs) => Promise.all(floors.map((server) => load.call('httpSingles', { kind: 'floor', url: server.url, targets, concurrency: t.concurrency, durationMs }, durationMs + 60_000)));
      const held = async () => {
        const holds = await Promise.all(floors.map(async (server) => /** @type {{ seconds: number, notifications: number }} */ (await (await fetch(`${server.url}/lock-hold`)).json())));
        return { seconds: holds.reduce((n, h) => n + h.seconds, 0), notifications: holds.reduce((n, h) => n + h.notifications, 0) };
      };
      await run(t.warmupMs);
      const before = await held();
      const runs = /** @type {any[]} */ (await run(t.durationMs));
      const after = await held();
      const seconds = after.seconds - before.seconds;
      const notifications = after.notifications - before.notifications;
      out.advisoryLock = { rowsPerSec: runs.reduce((n, r) => n + r.rowsPerSec, 0), p99Ms: Math.max(...runs.map((r) => r.batchMs.p99 ?? 0)), hold: { notifications, holdMsPerNotification: notifications ? round((seconds / notifications) * 1000, 4) : null } };
    } finally {
      for (const server of floors) await ctx.stopServer(server);
    }
    // The gateway's hold is timed inside the database up to the end of its statement; its commit
    // (one WAL flush per group) follows. Added here as measured, so the comparison with the old
    // design (timed to COMMIT answered) includes it.
    out.commit = await load.call('commitProbe', { databaseUrl: ctx.db.url, samples: 50 }, 60_000);
  } finally {
    await load.call('exit', {}, 5000).catch(() => undefined);
  }
  const old = out.advisoryLock?.hold.holdMsPerNotification;
  for (const label of ['singles', 'batches']) {
    const x = out[label];
    if (!x) continue;
    const h = x.hold;
    h.holdMsPerNotificationWithCommit = h.notifications ? round((h.holdSeconds * 1000 + (out.commit?.flushMs ?? 0) * h.groups) / h.notifications, 4) : null;
    x.timesBelowAdvisoryLock = old && h.holdMsPerNotificationWithCommit ? round(old / h.holdMsPerNotificationWithCommit, 1) : null;
    x.timesBelowAdvisoryLockStatementOnly = old && h.holdMsPerNotification ? round(old / h.holdMsPerNotification, 1) : null;
  }
  return out;
}

const ratio = (/** @type {number | null | undefined} */ ours, /** @type {number | null | undefined} */ floor) => (ours && floor ? round(ours / floor, 2) : null);

/** @param {Context} ctx */
async function scenarioPublish(ctx) {
  const plan = ctx.quick ? PLAN.quick : PLAN.full;
  const ours = await ctx.startOurs('ours-publish');
  const floor = await startFloor(ctx);
  const result = /** @type {Record<string, any>} */ ({ plan, phases: [...ctx.phases] });
  try {
    // a) single REST publishes, the gateway and the floor alternating per rate
    if (ctx.phases.has('single')) await singlePublishes(ctx, plan, ours, floor, result);
    // b) batches over HTTP
    if (ctx.phases.has('batch')) await httpBatches(ctx, plan, ours, floor, result);
  } finally {
    await ctx.stopServer(ours);
    await ctx.stopServer(floor);
  }
  // c) in-process sendMany, with no HTTP server of ours running meanwhile
  if (ctx.phases.has('sendmany')) await inProcessSendMany(ctx, plan, result);
  // e) two instances at once, beside the old design's advisory lock
  if (ctx.phases.has('two')) await twoInstancePhase(ctx, plan, result);
  return result;
}

/** @param {Context} ctx @param {any} plan @param {any} ours @param {any} floor @param {Record<string, any>} result */
async function singlePublishes(ctx, plan, ours, floor, result) {
  ctx.step('publish: receivers');
  const users = ctx.userList(plan.receivers);
  const onOurs = await ctx.connectAll('ours', ours.url, users);
  const onFloor = await ctx.connectAll('bare', floor.url, users);
  ctx.log(`publish: ${onOurs.ok} receivers on the gateway, ${onFloor.ok} on the floor`);
  result.single = [];
  for (const rate of plan.rates) {
    if (ctx.timeLeft() < 2 * (plan.warmupMs + plan.durationMs + 2 * plan.drainMs) + 20_000) {
      result.single.push({ rate, skipped: 'not enough time left before the deadline' });
      continue;
    }
    const row = /** @type {Record<string, any>} */ ({ rate });
    for (const [kind, server, targets] of /** @type {const} */ ([
      ['bare', floor, onFloor.connectedIds],
      ['ours', ours, onOurs.connectedIds],
    ])) {
      ctx.step(`publish ${kind === 'ours' ? 'gateway' : 'floor'} ${rate}/s: warm-up`);
      await ctx.runRate({ kind, publishUrl: server.url, targets, rate: Math.min(rate, plan.warmupRate), durationMs: plan.warmupMs, keyPrefix: `w-${kind}-${rate}`, drainMs: plan.drainMs });
      ctx.step(`publish ${kind === 'ours' ? 'gateway' : 'floor'} ${rate}/s`);
      const run = await ctx.runRate({ kind, publishUrl: server.url, targets, rate, durationMs: plan.durationMs, keyPrefix: `p-${kind}-${rate}`, drainMs: plan.drainMs, servers: [server] });
      row[kind === 'ours' ? 'gateway' : 'floor'] = {
        sustainedRate: run.sustainedRate,
        published: run.published,
        attempted: run.attempted,
        lost: run.lost,
        unsent: run.skippedOverInFlightCap,
        failed: run.publishFailed,
        latencyMs: run.latencyMs,
        httpMs: run.httpMs,
        // Server CPU (from /proc) per 201: depends much less on the machine's other load than rates do.
        cpuMsPerPublish: run.serverCpuMsPerNotification?.[0] ?? null,
        // Cores the server used over the phase: below 1, a single-threaded server was starved of CPU, not saturated.
        cpuCores: run.serverCpuUtilization?.[0] ?? null,
      };
    }
    row.sustainedRatio = ratio(row.gateway.sustainedRate, row.floor.sustainedRate);
    row.p99Ratio = ratio(row.gateway.latencyMs.p99, row.floor.latencyMs.p99);
    row.cpuRatio = ratio(row.gateway.cpuMsPerPublish, row.floor.cpuMsPerPublish);
    ctx.log(
      `publish ${rate}/s: gateway ${row.gateway.sustainedRate}/s p99 ${row.gateway.latencyMs.p99} ms lost ${row.gateway.lost} unsent ${row.gateway.unsent}; ` +
        `floor ${row.floor.sustainedRate}/s p99 ${row.floor.latencyMs.p99} ms; ratio ${row.sustainedRatio}`,
    );
    result.single.push(row);
  }
  result.lockAfterSingle = await lockHoldOf(ours.url);
  await ctx.closeAllConnections();
}

/** @param {Context} ctx @param {any} plan @param {any} ours @param {any} floor @param {Record<string, any>} result */
async function httpBatches(ctx, plan, ours, floor, result) {
  const targets = ctx.db.users.slice(0, plan.receivers).map((u) => u.id);
  const bulk = await startBulkChild(ctx, 'bulk-load');
  try {
    ctx.step('publish: HTTP batches');
    const b = plan.batch;
    const { warmupMs, openRate, ...closed } = b;
    /** @param {'floor'|'ours'} kind @param {any} server */
    const batches = async (kind, server) => {
      const base = { kind, url: server.url, token: kind === 'ours' ? ctx.publisherToken(0) : undefined, targets, ...closed };
      await bulk.call('httpBatch', { ...base, durationMs: warmupMs }, warmupMs + 60_000);
      const before = kind === 'ours' ? await lockHoldOf(server.url) : null;
      const saturated = await bulk.call('httpBatch', base, b.durationMs + 60_000);
      const open = await bulk.call('httpBatch', { ...base, rate: openRate }, b.durationMs + 60_000);
      return { saturated, open, lock: before ? holdBetween(before, await lockHoldOf(server.url)) : undefined };
    };
    const floorBatch = await batches('floor', floor);
    const oursBatch = await batches('ours', ours);
    result.batch = { gateway: oursBatch.saturated, floor: floorBatch.saturated, ratio: ratio(/** @type {any} */ (oursBatch.saturated).rowsPerSec, /** @type {any} */ (floorBatch.saturated).rowsPerSec) };
    result.batchOpen = { offeredRowsPerSec: openRate, gateway: oursBatch.open, floor: floorBatch.open };
    ctx.log(`publish batches of ${b.size}: gateway ${result.batch.gateway.rowsPerSec}/s p99 ${result.batch.gateway.batchMs.p99} ms; floor ${result.batch.floor.rowsPerSec}/s; ratio ${result.batch.ratio}`);
    ctx.log(`publish batches of ${b.size} offered ${openRate}/s: gateway ${result.batchOpen.gateway.rowsPerSec}/s p99 ${result.batchOpen.gateway.batchMs.p99} ms; floor p99 ${result.batchOpen.floor.batchMs.p99} ms`);
    result.lockAfterBatches = oursBatch.lock;
  } finally {
    await bulk.call('exit', {}, 5000).catch(() => undefined);
  }
}

/** @param {Context} ctx @param {any} plan @param {Record<string, any>} result */
async function inProcessSendMany(ctx, plan, result) {
  const inProcess = await startBulkChild(ctx, 'in-process');
  try {
    ctx.step('publish: in-process sendMany');
    const p = plan.inProcess;
    const targets = ctx.db.users.slice(0, plan.receivers).map((u) => u.id);
    const env = { NODE_ENV: 'production', DATABASE_URL: ctx.db.url, JWT_SECRET: ctx.jwtSecret, LOG_LEVEL: 'warn', FRONTEND_URL: 'http://bench.local' };
    const { openRate, ...closed } = p;
    const floorRun = await inProcess.call('inProcessFloor', { databaseUrl: ctx.db.url, targets, ...closed }, p.durationMs + 60_000);
    const floorOpen = await inProcess.call('inProcessFloor', { databaseUrl: ctx.db.url, targets, ...closed, rate: openRate }, p.durationMs + 60_000);
    const oursRun = await inProcess.call('inProcessOurs', { env, targets, ...closed }, p.durationMs + 60_000);
    const oursOpen = await inProcess.call('inProcessOurs', { env, targets, ...closed, rate: openRate }, p.durationMs + 60_000);
    result.inProcess = { gateway: oursRun, floor: floorRun, ratio: ratio(/** @type {any} */ (oursRun).rowsPerSec, /** @type {any} */ (floorRun).rowsPerSec) };
    result.inProcessOpen = { offeredRowsPerSec: openRate, gateway: oursOpen, floor: floorOpen };
    ctx.log(`publish sendMany ${p.size}: gateway ${result.inProcess.gateway.rowsPerSec}/s p99 ${result.inProcess.gateway.batchMs.p99} ms; floor ${result.inProcess.floor.rowsPerSec}/s; ratio ${result.inProcess.ratio}`);
    ctx.log(`publish sendMany ${p.size} offered ${openRate}/s: gateway ${result.inProcessOpen.gateway.rowsPerSec}/s p99 ${result.inProcessOpen.gateway.batchMs.p99} ms; floor p99 ${result.inProcessOpen.floor.batchMs.p99} ms`);
  } finally {
    await inProcess.call('exit', {}, 5000).catch(() => undefined);
  }
}

/** @param {Context} ctx @param {any} plan @param {Record<string, any>} result */
async function twoInstancePhase(ctx, plan, result) {
  if (ctx.timeLeft() > 4 * (plan.two.warmupMs + plan.two.durationMs) + 25_000) {
    result.twoInstances = await twoInstances(ctx, plan, ctx.db.users.slice(0, plan.receivers).map((u) => u.id));
    const two = result.twoInstances;
    ctx.log(
      `publish two instances: gateway singles ${two.singles.rowsPerSec}/s hold ${two.singles.hold.holdMsPerNotification} ms/notification, batches ${two.batches.rowsPerSec}/s hold ${two.batches.hold.holdMsPerNotification} ms/notification; ` +
        `old advisory lock ${two.advisoryLock.rowsPerSec}/s hold ${two.advisoryLock.hold.holdMsPerNotification} ms/notification`,
    );
  } else {
    result.twoInstances = { skipped: 'not enough time left before the deadline' };
  }
}

/** A few console lines for the end-of-run table. @param {any} r */
function publishLines(r) {
  if (!r || r.error || r.skipped) return [`publish: ${r?.error ?? r?.skipped ?? 'not run'}`];
  const lines = ['publish (gateway vs floor, same run):'];
  for (const row of r.single ?? []) {
    if (row.skipped) lines.push(`  ${row.rate}/s: ${row.skipped}`);
    else
      lines.push(
        `  REST ${row.rate}/s: gateway ${row.gateway.sustainedRate}/s p99 ${row.gateway.latencyMs.p99} ms lost ${row.gateway.lost} unsent ${row.gateway.unsent} | floor ${row.floor.sustainedRate}/s p99 ${row.floor.latencyMs.p99} ms | ratio ${row.sustainedRatio}` +
          ` | server CPU ${row.gateway.cpuMsPerPublish} vs ${row.floor.cpuMsPerPublish} ms per publish (${row.cpuRatio}x), ${row.gateway.cpuCores} vs ${row.floor.cpuCores} cores`,
      );
  }
  if (r.batch) lines.push(`  batches, saturated: gateway ${r.batch.gateway.rowsPerSec}/s p99 ${r.batch.gateway.batchMs.p99} ms | floor ${r.batch.floor.rowsPerSec}/s | ratio ${r.batch.ratio}`);
  if (r.batchOpen) lines.push(`  batches, offered ${r.batchOpen.offeredRowsPerSec}/s: gateway ${r.batchOpen.gateway.rowsPerSec}/s p99 ${r.batchOpen.gateway.batchMs.p99} ms | floor ${r.batchOpen.floor.rowsPerSec}/s p99 ${r.batchOpen.floor.batchMs.p99} ms`);
  if (r.inProcess) lines.push(`  sendMany, saturated: gateway ${r.inProcess.gateway.rowsPerSec}/s p99 ${r.inProcess.gateway.batchMs.p99} ms | floor ${r.inProcess.floor.rowsPerSec}/s | ratio ${r.inProcess.ratio}`);
  if (r.inProcessOpen) lines.push(`  sendMany, offered ${r.inProcessOpen.offeredRowsPerSec}/s: gateway ${r.inProcessOpen.gateway.rowsPerSec}/s p99 ${r.inProcessOpen.gateway.batchMs.p99} ms | floor ${r.inProcessOpen.floor.rowsPerSec}/s p99 ${r.inProcessOpen.floor.batchMs.p99} ms`);
  for (const [label, lock] of [['after single publishes', r.lockAfterSingle], ['after batches', r.lockAfterBatches], ['in-process', r.inProcess?.gateway?.lock]]) {
    if (lock) lines.push(`  stream-lock hold ${label}: ${lock.holdMsPerGroup} ms per group, ${lock.holdMsPerNotification} ms per notification (${lock.notifications} in ${lock.groups} groups)`);
  }
  const two = r.twoInstances;
  if (two?.advisoryLock) {
    lines.push(`  two instances at once, serialised hold per notification: old advisory lock ${two.advisoryLock.hold.holdMsPerNotification} ms (${two.advisoryLock.rowsPerSec}/s; lock granted → COMMIT answered)`);
    for (const label of ['singles', 'batches']) {
      const x = two[label];
      lines.push(
        `    gateway ${label}: ${x.hold.holdMsPerNotificationWithCommit} ms with commit, ${x.hold.holdMsPerNotification} ms in the statement (${x.hold.notifications} in ${x.hold.groups} groups, ${x.rowsPerSec}/s, p99 ${x.p99Ms} ms): ` +
          `${x.timesBelowAdvisoryLock}x below (${x.timesBelowAdvisoryLockStatementOnly}x statement only)`,
      );
    }
    if (two.commit) lines.push(`    commit (WAL flush) per group, measured: ${two.commit.flushMs} ms (COMMIT ${two.commit.commitMs} ms − round trip ${two.commit.roundTripMs} ms)`);
  } else if (two?.skipped) lines.push(`  two instances: ${two.skipped}`);
  return lines;
}

module.exports = { scenarioPublish, publishLines };
