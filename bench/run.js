'use strict';
/**
 * `npm run bench [-- --quick] [-- --only=1,3] [-- --publish] [-- --no-profile] [-- --generators=N]`
 *
 * Load benchmark of the notification gateway against a bare socket.io server, on this machine,
 * over loopback only. Creates its own database (dropped at the end), starts the servers and
 * the load generators as child processes, runs the scenarios of issue 9, prints a table and
 * writes bench/results/latest.json (+ docs/BENCHMARKS.md for a full run).
 *
 * Everything is bounded: every connection phase, publishing run and wait has a count and a
 * deadline, the whole run has a hard deadline, and every child is killed on the way out.
 */

const path = require('node:path');
const { mkdirSync, writeFileSync, readdirSync, rmSync, statSync, existsSync } = require('node:fs');
const { randomBytes } = require('node:crypto');
const jwt = require('jsonwebtoken');
const children = require('./lib/children.js');
const { createBenchDatabase, dropBenchDatabase } = require('./lib/db.js');
const { machineInfo, packageVersions } = require('./lib/environment.js');
const { sleep, summarize, round, withTimeout } = require('./lib/util.js');
const { summarizeFile, formatSummary } = require('./profile-summary.js');
const report = require('./lib/report.js');
const { scenarioPublish, publishLines } = require('./publish/scenario.js');

const ROOT = path.resolve(__dirname, '..');
const RESULTS = path.join(ROOT, 'bench', 'results');
const STAMP = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
const LOGS = path.join(RESULTS, 'logs', STAMP);
const PROFILES = path.join(RESULTS, 'profiles');
const ORIGIN = 'http://bench.local';
const NAMESPACE = '/notifications';
const ADMIN_DB_URL = process.env.BENCH_PG_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

// ---------------------------------------------------------------------------------------------
// Configuration

const argv = process.argv.slice(2);
const flag = (/** @type {string} */ name) => argv.includes(`--${name}`);
const option = (/** @type {string} */ name) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const QUICK = flag('quick');
const ONLY = flag('publish') ? [6] : (option('only')?.split(',').map(Number) ?? [1, 2, 3, 4, 5, 6]);
const PROFILE = flag('profile') || (!QUICK && !flag('no-profile') && !flag('publish'));
const GENERATORS = Math.max(2, Number(option('generators') ?? 2));
const ADDRESSES_PER_GENERATOR = 4;

const CONFIG = QUICK
  ? {
      mode: 'quick',
      deadlineMs: 100_000,
      settleMs: 1000,
      connections: { sizes: [2000], idleMs: 3000, concurrencyPerGenerator: 48, deadlineMs: 20_000 },
      delivery: { receivers: 200, rates: [100, 1000], durationMs: 3000, warmupRate: 100, warmupMs: 1000, drainMs: 4000 },
      fanout: { sockets: 2000, broadcasts: 3, gapMs: 300, waitMs: 5000 },
      redis: { receivers: 200, rates: [500], durationMs: 3000, drainMs: 4000 },
      sse: { streams: 200, broadcasts: 3, gapMs: 300, waitMs: 5000 },
      profile: { sockets: 1000, rate: 300, durationMs: 3000, broadcasts: 3 },
      maxInFlightPerGenerator: 1000,
    }
  : {
      mode: 'full',
      deadlineMs: 40 * 60_000,
      settleMs: 2000,
      connections: { sizes: [1000, 5000, 10_000, 20_000], idleMs: 10_000, concurrencyPerGenerator: 48, deadlineMs: 180_000 },
      delivery: { receivers: 1000, rates: [100, 500, 1000], durationMs: 15_000, warmupRate: 200, warmupMs: 3000, drainMs: 10_000 },
      fanout: { sockets: 10_000, broadcasts: 5, gapMs: 1000, waitMs: 15_000 },
      redis: { receivers: 1000, rates: [100, 500, 1000], durationMs: 15_000, drainMs: 10_000 },
      sse: { streams: 1000, broadcasts: 5, gapMs: 1000, waitMs: 15_000 },
      profile: { sockets: 5000, rate: 500, durationMs: 10_000, broadcasts: 5 },
      maxInFlightPerGenerator: 2000,
    };

const USER_COUNT = Math.max(...CONFIG.connections.sizes, CONFIG.delivery.receivers, CONFIG.redis.receivers);
const PUBLISHERS = GENERATORS;
const ADMIN_COUNT = Math.max(CONFIG.fanout.sockets, CONFIG.sse.streams, CONFIG.profile.sockets) + PUBLISHERS;
const JWT_SECRET = randomBytes(48).toString('base64url');
const TOKEN_TTL_SEC = 2 * 3600;
const REDIS_PREFIX = `ngwbench${Date.now()}`;

// ---------------------------------------------------------------------------------------------
// Output

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s`;
/** @param {string} message */
const log = (message) => process.stdout.write(`[${elapsed()}] ${message}\n`);

/** Latest progress message of each generator for the step that is running. */
const progressState = new Map();
let progressLabel = '';
/** @param {string} label */
function step(label) {
  progressLabel = label;
  progressState.clear();
}
const progressTimer = setInterval(() => {
  if (progressState.size === 0) return;
  const parts = [...progressState.values()];
  const sum = (/** @type {string} */ key) => parts.reduce((n, p) => n + (p[key] ?? 0), 0);
  const phase = parts[0].phase;
  if (phase === 'publish') {
    log(`  ${progressLabel}: sent ${sum('fired')}/${sum('total')}, 201 ${sum('ok')}, failed ${sum('failed')}, in flight ${sum('inFlight')}, skipped ${sum('skipped')}`);
  } else {
    log(`  ${progressLabel}: ${phase} ${sum('ok')}/${sum('total')} ok, ${sum('failed')} failed`);
  }
  progressState.clear();
}, 2000);
progressTimer.unref();

// ---------------------------------------------------------------------------------------------
// Lifecycle: everything started is stopped, whatever happens.

/** @type {{ name: string, url: string } | null} */
let database = null;
/** @type {ReturnType<typeof children.ipcClient>[]} */
let generators = [];
/** @type {Promise<void> | null} */
let cleaning = null;
let aborting = false;

async function cleanup() {
  if (cleaning) return cleaning;
  cleaning = (async () => {
    await Promise.allSettled(generators.map((g) => withTimeout(g.call('exit', {}, 5000), 6000, 'generator exit')));
    await children.shutdown();
    if (database) {
      const name = database.name;
      database = null;
      await dropBenchDatabase(ADMIN_DB_URL, name).then(
        () => log(`dropped database ${name}`),
        (error) => log(`could not drop database ${name}: ${error.message}`),
      );
    }
    await cleanRedis().catch(() => undefined);
  })();
  return cleaning;
}

async function cleanRedis() {
  if (!ONLY.includes(4)) return;
  const Redis = require(require.resolve('ioredis', { paths: [path.join(ROOT, 'apps/backend')] }));
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000 });
  try {
    await client.connect();
    let cursor = '0';
    let rounds = 0;
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${REDIS_PREFIX}*`, 'COUNT', 1000);
      if (keys.length > 0) await client.del(...keys);
      cursor = next;
    } while (cursor !== '0' && ++rounds < 1000);
  } finally {
    client.disconnect();
  }
}

process.on('exit', () => children.killAllSync());
for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.on(signal, () => {
    aborting = true;
    log(`${signal}: stopping children and dropping the database`);
    cleanup().finally(() => process.exit(130));
  });
}
const hardDeadline = setTimeout(() => {
  aborting = true;
  log(`hard deadline of ${CONFIG.deadlineMs / 1000}s reached: aborting`);
  cleanup().finally(() => process.exit(1));
}, CONFIG.deadlineMs + 60_000);
hardDeadline.unref();
const timeLeft = () => CONFIG.deadlineMs - (Date.now() - started);

// ---------------------------------------------------------------------------------------------
// Servers

/** @param {number} port @param {Record<string, string>} extra */
function oursEnv(port, extra) {
  if (!database) throw new Error('no database');
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    DATABASE_URL: /** @type {any} */ (database).url,
    JWT_SECRET,
    FRONTEND_URL: ORIGIN,
    LOG_LEVEL: 'warn',
    // The abuse caps are raised so the harness measures throughput, not the limits.
    MAX_WEBSOCKET_CONNECTIONS: '1000000',
    MAX_CONNECTIONS_PER_USER: '100',
    MAX_CONNECTIONS_PER_IP: '1000000',
    CONNECT_RATE_PER_IP: '1000000',
    WS_RATE_LIMIT_POINTS: '100000',
    HTTP_RATE_LIMIT_CREATE: '1000000',
    HTTP_RATE_LIMIT_READ: '1000000',
    HTTP_RATE_LIMIT_STREAM_TICKET: '1000000',
    HTTP_RATE_LIMIT_STREAM_CONNECT: '1000000',
    HTTP_RATE_LIMIT_STREAM_REPLAY: '1000000',
    ...extra,
  };
}

/**
 * @typedef {{ name: string, kind: 'ours'|'bare', child: import('node:child_process').ChildProcess, pid: number, url: string,
 *   logFile: string, openFiles: { soft: string, hard: string } | null }} Server
 */

/** @param {string} name @param {Record<string, string>} [extraEnv] @param {string[]} [nodeArgs] @returns {Promise<Server>} */
async function startOurs(name, extraEnv = {}, nodeArgs = []) {
  const port = await children.freePort();
  const logFile = path.join(LOGS, `${name}.log`);
  const child = children.spawnNode({
    name,
    script: path.join(ROOT, 'apps/backend/dist/main.js'),
    nodeArgs,
    env: oursEnv(port, extraEnv),
    // Not the repo root: main.js loads ./.env when present, which must not leak into the bench.
    cwd: RESULTS,
    logFile,
  });
  const url = `http://127.0.0.1:${port}`;
  await children.waitReady(child, `${url}/health/ready`, 60_000, logFile);
  return { name, kind: 'ours', child, pid: /** @type {number} */ (child.pid), url, logFile, openFiles: children.openFileLimit(/** @type {number} */ (child.pid)) };
}

/** @param {string} name @param {string[]} [nodeArgs] @returns {Promise<Server>} */
async function startBare(name, nodeArgs = []) {
  const port = await children.freePort();
  const logFile = path.join(LOGS, `${name}.log`);
  const child = children.spawnNode({
    name,
    script: path.join(__dirname, 'baseline-server.js'),
    nodeArgs,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production', PORT: String(port), HOST: '127.0.0.1' },
    cwd: RESULTS,
    logFile,
  });
  const url = `http://127.0.0.1:${port}`;
  await children.waitReady(child, `${url}/health/ready`, 30_000, logFile);
  return { name, kind: 'bare', child, pid: /** @type {number} */ (child.pid), url, logFile, openFiles: children.openFileLimit(/** @type {number} */ (child.pid)) };
}

/** @param {'ours'|'bare'} kind @param {string} name @param {string[]} [nodeArgs] */
const startServer = (kind, name, nodeArgs = []) => (kind === 'ours' ? startOurs(name, {}, nodeArgs) : startBare(name, nodeArgs));

/** @param {Server} server */
async function stopServer(server) {
  await children.stopChild(server.child, 15_000);
}

/**
 * Memory after full GCs, once RSS has settled (a freshly booted server keeps returning pages
 * for a few seconds): RSS in KiB and process.memoryUsage() of the server.
 * @param {Server} server @param {Awaited<ReturnType<typeof children.openInspector>>} inspector
 */
async function settledMemory(server, inspector) {
  await inspector.gc();
  let last = children.rssKB(server.pid);
  for (let i = 0, steady = 0; i < 20 && steady < 2; i++) {
    await sleep(1000);
    const now = children.rssKB(server.pid);
    steady = Math.abs(now - last) < 512 ? steady + 1 : 0;
    last = now;
  }
  const memory = await inspector.gc();
  return { rssKB: await sampleRss(server.pid), memory };
}

/** Median of a few RSS samples. @param {number} pid */
async function sampleRss(pid, count = 3, gapMs = 300) {
  const samples = [];
  for (let i = 0; i < count; i++) {
    samples.push(children.rssKB(pid));
    if (i < count - 1) await sleep(gapMs);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

// ---------------------------------------------------------------------------------------------
// Generators

/** @param {number} i */
const addressesOf = (i) => Array.from({ length: ADDRESSES_PER_GENERATOR }, (_, j) => `127.0.0.${2 + i * ADDRESSES_PER_GENERATOR + j}`);

async function startGenerators() {
  const list = [];
  for (let i = 0; i < GENERATORS; i++) {
    const name = `gen-${i}`;
    const child = children.spawnNode({
      name,
      script: path.join(__dirname, 'generator.js'),
      args: [name],
      nodeArgs: ['--max-old-space-size=4096'],
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production' },
      cwd: ROOT,
      logFile: path.join(LOGS, `${name}.log`),
      ipc: true,
    });
    const client = children.ipcClient(child, name, (message) => {
      if (message.type === 'done') progressState.delete(message.gen);
      else progressState.set(message.gen, message);
    });
    await withTimeout(client.ready, 15_000, `${name} start`);
    list.push(client);
  }
  return list;
}

/** @template T @param {T[]} list @returns {T[][]} contiguous, near-equal chunks, one per generator */
function split(list) {
  const chunks = [];
  const size = Math.ceil(list.length / GENERATORS);
  for (let i = 0; i < GENERATORS; i++) chunks.push(list.slice(i * size, (i + 1) * size));
  return chunks;
}

/** @param {Record<string, number>[]} parts */
function mergeCounts(parts) {
  /** @type {Record<string, number>} */
  const out = {};
  for (const part of parts) for (const [key, n] of Object.entries(part ?? {})) out[key] = (out[key] ?? 0) + n;
  return out;
}

/**
 * @typedef {{ id: string, tenantId: string, admin: boolean }} BenchUser
 * @param {'ours'|'bare'} kind @param {string} url @param {BenchUser[]} users @param {'ws'|'sse'} transport
 */
async function connectAll(kind, url, users, transport = 'ws') {
  const chunks = split(users);
  const deadlineMs = CONFIG.connections.deadlineMs;
  const parts = /** @type {any[]} */ (
    await Promise.all(
      generators.map((g, i) =>
        g.call(
          transport === 'ws' ? 'connect' : 'sseOpen',
          {
            kind,
            url,
            namespace: NAMESPACE,
            origin: ORIGIN,
            localAddresses: addressesOf(i),
            users: chunks[i],
            secret: kind === 'ours' ? JWT_SECRET : undefined,
            tokenTtlSec: TOKEN_TTL_SEC,
            concurrency: CONFIG.connections.concurrencyPerGenerator,
            timeoutMs: 20_000,
            deadlineMs,
          },
          deadlineMs + 60_000,
        ),
      ),
    )
  );
  const ok = parts.reduce((n, p) => n + p.ok, 0);
  const failed = parts.reduce((n, p) => n + p.failed, 0);
  const skipped = parts.reduce((n, p) => n + p.skipped, 0);
  const first = Math.min(...parts.map((p) => p.firstStart));
  const last = Math.max(...parts.map((p) => p.lastDone));
  const seconds = Math.max(0.001, (last - first) / 1000);
  return {
    attempted: users.length,
    ok,
    failed,
    notAttemptedBeforeDeadline: skipped,
    errors: mergeCounts(parts.map((p) => p.errors)),
    seconds: round(seconds, 2),
    ratePerSec: Math.round(ok / seconds),
    handshakeMs: {
      p50: round(parts.reduce((n, p) => n + (p.handshake.p50 ?? 0), 0) / parts.length),
      p99: Math.max(...parts.map((p) => p.handshake.p99 ?? 0)),
      max: Math.max(...parts.map((p) => p.handshake.max ?? 0)),
    },
    connectedIds: parts.flatMap((p) => p.connectedIds ?? []),
  };
}

async function statsAll() {
  const parts = /** @type {any[]} */ (await Promise.all(generators.map((g) => g.call('stats', {}, 20_000))));
  return {
    connected: parts.reduce((n, p) => n + p.connected, 0),
    streamsOpen: parts.reduce((n, p) => n + p.streamsOpen, 0),
    drops: parts.reduce((n, p) => n + p.drops, 0),
    generatorRssKB: parts.map((p) => p.rssKB),
    generatorCpuMs: parts.reduce((n, p) => n + p.cpuMs, 0),
  };
}

async function closeAllConnections() {
  await Promise.all(generators.map((g) => g.call('closeAll', {}, 30_000)));
}

// ---------------------------------------------------------------------------------------------
// Measurements

/** @type {{ url: string, name: string, tenantId: string, users: { id: string }[], admins: { id: string }[] }} */
let db;
/** @param {number} n */
const userList = (n) => db.users.slice(0, n).map((u) => ({ id: u.id, tenantId: db.tenantId, admin: false }));
/** @param {number} n */
const adminList = (n) => db.admins.slice(0, n).map((u) => ({ id: u.id, tenantId: db.tenantId, admin: true }));
/** Publishers are the last admins: never among the connected receivers. @param {number} i */
const publisherToken = (i) => jwt.sign({ sub: db.admins[db.admins.length - 1 - i].id }, JWT_SECRET, { algorithm: 'HS256', expiresIn: TOKEN_TTL_SEC });

/**
 * Publishes USER notifications at `rate`/s for `durationMs` from every generator, waits for
 * delivery, and computes latency (send → receive) and loss over the POSTs that got a 201.
 * @param {{ kind: 'ours'|'bare', publishUrl: string, targets: string[], rate: number, durationMs: number, keyPrefix: string, drainMs: number,
 *   servers?: Server[] }} c
 */
async function runRate(c) {
  const perGenerator = c.rate / GENERATORS;
  const servers = c.servers ?? [];
  const cpuBefore = servers.map((server) => children.cpuMs(server.pid));
  const wallBefore = Date.now();
  const parts = /** @type {any[]} */ (
    await Promise.all(
      generators.map((g, i) =>
        g.call(
          'publish',
          {
            kind: c.kind,
            url: c.publishUrl,
            token: c.kind === 'ours' ? publisherToken(i) : undefined,
            rate: perGenerator,
            durationMs: c.durationMs,
            targets: c.targets,
            keyPrefix: `${c.keyPrefix}-g${i}`,
            maxInFlight: CONFIG.maxInFlightPerGenerator,
            timeoutMs: 10_000,
            localAddress: addressesOf(i)[0],
          },
          c.durationMs + 60_000,
        ),
      ),
    )
  );
  const okKeys = new Set(parts.flatMap((p) => p.okKeys));
  // Every request has been answered: the server work of this run is done (delivery follows at once).
  const serverCpuMs = servers.map((server, i) => children.cpuMs(server.pid) - cpuBefore[i]);
  const wallMs = Date.now() - wallBefore;
  const drainUntil = Date.now() + c.drainMs;
  while (Date.now() < drainUntil) {
    const counts = /** @type {any[]} */ (await Promise.all(generators.map((g) => g.call('countReceived', { prefix: c.keyPrefix }, 20_000))));
    if (counts.reduce((n, x) => n + x.keys, 0) >= okKeys.size) break;
    await sleep(200);
  }
  const collected = /** @type {Record<string, number[]>[]} */ (await Promise.all(generators.map((g) => g.call('collect', { prefix: c.keyPrefix }, 60_000))));
  const latencies = [];
  const seen = new Set();
  let duplicates = 0;
  let unexpected = 0;
  for (const part of collected) {
    for (const [key, list] of Object.entries(part)) {
      if (!okKeys.has(key)) {
        unexpected += list.length;
        continue;
      }
      if (seen.has(key)) {
        duplicates += list.length;
        continue;
      }
      seen.add(key);
      latencies.push(list[0]);
      duplicates += list.length - 1;
    }
  }
  const attempted = parts.reduce((n, p) => n + p.attempted, 0);
  const lost = okKeys.size - seen.size;
  return {
    rate: c.rate,
    durationMs: c.durationMs,
    offeredRate: Math.round(parts.reduce((n, p) => n + p.offeredRate, 0)),
    // 201s per second from the first request to the last answer: what the server sustained.
    sustainedRate: Math.round((okKeys.size / Math.max(1, Math.max(...parts.map((p) => p.lastAnswer)) - Math.min(...parts.map((p) => p.start)))) * 1000),
    attempted,
    published: okKeys.size,
    publishFailed: parts.reduce((n, p) => n + p.failed, 0),
    skippedOverInFlightCap: parts.reduce((n, p) => n + p.skipped, 0),
    publishErrors: mergeCounts(parts.map((p) => p.errors)),
    latencyMs: summarize(latencies),
    httpMs: { p50: Math.max(...parts.map((p) => p.http.p50 ?? 0)), p99: Math.max(...parts.map((p) => p.http.p99 ?? 0)) },
    lost,
    lossPct: okKeys.size > 0 ? round((lost / okKeys.size) * 100, 3) : null,
    duplicates,
    deliveredWithoutA201: unexpected,
    serverCpuMsPerNotification: servers.length && okKeys.size ? serverCpuMs.map((ms) => round(ms / okKeys.size, 3)) : null,
    serverCpuUtilization: servers.length ? serverCpuMs.map((ms) => round(ms / wallMs, 2)) : null,
  };
}

/**
 * Receivers connect to `connectUrl`; publishers POST to `publishUrl` (the same server, or
 * another instance for the Redis scenario). CPU is accounted for every server in `servers`.
 * @param {{ kind: 'ours'|'bare', label: string, connectUrl: string, publishUrl: string, receivers: number, rates: number[],
 *   durationMs: number, drainMs: number, warmup?: { rate: number, ms: number }, servers: Server[] }} c
 */
async function deliveryRun(c) {
  step(`${c.label} connect ${c.receivers} receivers`);
  const connection = await connectAll(c.kind, c.connectUrl, userList(c.receivers));
  log(`${c.label}: ${connection.ok}/${c.receivers} receivers connected (${connection.ratePerSec}/s)`);
  if (connection.ok === 0) throw new Error(`${c.label}: no receiver connected: ${JSON.stringify(connection.errors)}`);
  const targets = connection.connectedIds;
  if (c.warmup) {
    step(`${c.label} warm-up ${c.warmup.rate}/s`);
    await runRate({ kind: c.kind, publishUrl: c.publishUrl, targets, rate: c.warmup.rate, durationMs: c.warmup.ms, keyPrefix: `warm-${c.label}`, drainMs: 2000 });
  }
  const rows = [];
  for (const rate of c.rates) {
    if (timeLeft() < c.durationMs + 20_000) {
      rows.push({ rate, skipped: 'not enough time left before the deadline' });
      continue;
    }
    step(`${c.label} ${rate}/s`);
    const row = await runRate({ kind: c.kind, publishUrl: c.publishUrl, targets, rate, durationMs: c.durationMs, keyPrefix: `d-${c.label}-${rate}`, drainMs: c.drainMs, servers: c.servers });
    const l = row.latencyMs;
    log(
      `${c.label} ${rate}/s: p50 ${l.p50} p95 ${l.p95} p99 ${l.p99} max ${l.max} ms, published ${row.published}/${row.attempted}, lost ${row.lost}, ` +
        `failed ${row.publishFailed}, skipped ${row.skippedOverInFlightCap}; sustained ${row.sustainedRate}/s; server CPU ${row.serverCpuMsPerNotification?.join(' + ')} ms/notification (${row.serverCpuUtilization?.join(' + ')} cores)`,
    );
    rows.push(row);
  }
  const held = await statsAll();
  return { receivers: { attempted: c.receivers, connected: connection.ok, failed: connection.failed, errors: connection.errors, droppedDuringRun: held.drops }, rates: rows };
}

/**
 * One TENANT broadcast after another to everything connected; each round waits until every
 * connection has it (or `waitMs`).
 * @param {{ kind: 'ours'|'bare', label: string, url: string, expected: number, broadcasts: number, gapMs: number, waitMs: number, server?: Server }} c
 */
async function broadcastRounds(c) {
  const rounds = [];
  for (let b = 0; b < c.broadcasts; b++) {
    const key = `f-${c.label}-${b}`;
    const cpuBefore = c.server ? children.cpuMs(c.server.pid) : 0;
    const post = /** @type {any} */ (
      await generators[0].call(
        'postOne',
        { kind: c.kind, url: c.url, token: c.kind === 'ours' ? publisherToken(0) : undefined, scope: 'TENANT', tenantId: db.tenantId, key, timeoutMs: 10_000, localAddress: addressesOf(0)[0] },
        20_000,
      )
    );
    if (post.status !== 201) {
      rounds.push({ broadcast: b, error: post.error ?? `HTTP ${post.status}` });
      continue;
    }
    const until = Date.now() + c.waitMs;
    while (Date.now() < until) {
      const counts = /** @type {any[]} */ (await Promise.all(generators.map((g) => g.call('countReceived', { prefix: key }, 20_000))));
      if (counts.reduce((n, x) => n + x.copies, 0) >= c.expected) break;
      await sleep(50);
    }
    const parts = /** @type {Record<string, number[]>[]} */ (await Promise.all(generators.map((g) => g.call('collect', { prefix: key }, 60_000))));
    const serverCpuMs = c.server ? round(children.cpuMs(c.server.pid) - cpuBefore, 0) : null;
    const latencies = parts.flatMap((p) => p[key] ?? []);
    const s = summarize(latencies);
    rounds.push({ broadcast: b, received: latencies.length, missing: Math.max(0, c.expected - latencies.length), httpMs: round(post.httpMs), lastMs: s.max, p50Ms: s.p50, p99Ms: s.p99, serverCpuMs });
    log(`${c.label} broadcast ${b + 1}/${c.broadcasts}: ${latencies.length}/${c.expected} got it; last after ${s.max} ms (p50 ${s.p50}, POST answered in ${round(post.httpMs)} ms)`);
    await sleep(c.gapMs);
  }
  const ok = rounds.filter((r) => r.lastMs !== undefined);
  const lasts = ok.map((r) => /** @type {number} */ (r.lastMs));
  return {
    rounds,
    lastMsMedian: summarize(lasts).p50,
    lastMsWorst: lasts.length ? Math.max(...lasts) : null,
    p50MsMedian: summarize(ok.map((r) => /** @type {number} */ (r.p50Ms))).p50,
    missingTotal: ok.reduce((n, r) => n + (r.missing ?? 0), 0),
    serverCpuMsPerBroadcastMedian: summarize(ok.map((r) => r.serverCpuMs ?? 0)).p50,
  };
}

/**
 * @param {{ kind: 'ours'|'bare', label: string, server: Server, transport: 'ws'|'sse', count: number, broadcasts: number, gapMs: number, waitMs: number }} c
 */
async function fanoutRun(c) {
  step(`${c.label} connect ${c.count}`);
  const connection = await connectAll(c.kind, c.server.url, adminList(c.count), c.transport);
  log(`${c.label}: ${connection.ok}/${c.count} ${c.transport === 'ws' ? 'sockets' : 'streams'} open (${connection.ratePerSec}/s)${connection.failed ? `, failures ${JSON.stringify(connection.errors)}` : ''}`);
  await sleep(CONFIG.settleMs);
  step(`${c.label} broadcasts`);
  const result = await broadcastRounds({ kind: c.kind, label: c.label, url: c.server.url, expected: connection.ok, broadcasts: c.broadcasts, gapMs: c.gapMs, waitMs: c.waitMs, server: c.server });
  return { attempted: c.count, connected: connection.ok, failed: connection.failed, errors: connection.errors, ...result };
}

// ---------------------------------------------------------------------------------------------
// Scenarios

async function scenarioConnections() {
  const rows = [];
  for (const n of CONFIG.connections.sizes) {
    /** @type {Record<string, any>} */
    const row = { n };
    for (const kind of /** @type {const} */ (['ours', 'bare'])) {
      if (aborting) break;
      if (timeLeft() < 30_000) {
        row[kind] = { skipped: 'not enough time left before the deadline' };
        continue;
      }
      try {
        row[kind] = await measureConnections(kind, n);
      } catch (error) {
        log(`s1 ${kind} N=${n} failed: ${error instanceof Error ? error.stack : String(error)}`);
        row[kind] = { error: error instanceof Error ? error.message : String(error) };
      }
    }
    rows.push(row);
  }
  return rows;
}

/** @param {'ours'|'bare'} kind @param {number} n */
async function measureConnections(kind, n) {
  // The inspector (loopback, random port) only to force full GCs around the measurement; its
  // session is opened first, while the server still has file descriptors to spare.
  const server = await startServer(kind, `s1-${kind}-${n}`, ['--inspect=127.0.0.1:0']);
  /** @type {Awaited<ReturnType<typeof children.openInspector>> | null} */
  let inspector = null;
  try {
    inspector = await children.openInspector(await children.inspectorUrl(server.logFile));
    await sleep(CONFIG.settleMs);
    const rawBeforeKB = await sampleRss(server.pid);
    const { rssKB: rssBeforeKB, memory: before } = await settledMemory(server, inspector);
    step(`s1 ${kind} N=${n}`);
    const cpuBefore = children.cpuMs(server.pid);
    const generatorCpuBefore = (await statsAll()).generatorCpuMs;
    log(`s1 connections, ${kind}: opening ${n} websockets (server RSS ${Math.round(rssBeforeKB / 1024)} MiB, open-file limit ${server.openFiles?.soft})`);
    const connection = await connectAll(kind, server.url, userList(n));
    const serverCpuMs = children.cpuMs(server.pid) - cpuBefore;
    const generatorCpuMs = (await statsAll()).generatorCpuMs - generatorCpuBefore;
    log(
      `s1 ${kind} N=${n}: ${connection.ok} connected, ${connection.failed} failed in ${connection.seconds}s = ${connection.ratePerSec} handshakes/s` +
        `${connection.failed ? ` (${JSON.stringify(connection.errors)})` : ''}; idling ${CONFIG.connections.idleMs / 1000}s`,
    );
    step(`s1 ${kind} N=${n} idle`);
    const idle = [];
    for (let t = 0; t < CONFIG.connections.idleMs; t += 1000) {
      await sleep(1000);
      idle.push(children.rssKB(server.pid));
    }
    const rawAfterKB = idle[idle.length - 1];
    const { rssKB: rssAfterKB, memory: after } = await settledMemory(server, inspector);
    const held = await statsAll();
    const { connectedIds, ...connectionFigures } = connection;
    const perConnection = (/** @type {number} */ deltaKB) => (connection.ok > 0 ? round(deltaKB / connection.ok, 1) : null);
    // V8 heap plus external memory; when the server cannot report `external` (open-file limit), as before.
    const heapKB = (/** @type {{ heapUsed: number, external: number | null }} */ m) => (m.heapUsed + (m.external ?? before.external ?? 0)) / 1024;
    const figures = {
      ...connectionFigures,
      serverCpuMsPerHandshake: connection.ok > 0 ? round(serverCpuMs / connection.ok, 3) : null,
      serverCpuUtilization: round(serverCpuMs / 1000 / connection.seconds, 2),
      clientCpuMsPerHandshake: connection.ok > 0 ? round(generatorCpuMs / connection.ok, 3) : null,
      heldAfterIdle: held.connected,
      droppedWhileIdle: held.drops,
      rssBeforeKB,
      rssAfterKB,
      rssPerConnectionKB: perConnection(rssAfterKB - rssBeforeKB),
      heapPerConnectionKB: perConnection(heapKB(after) - heapKB(before)),
      rawRssBeforeKB: rawBeforeKB,
      rawRssAfterIdleKB: rawAfterKB,
      rawRssPerConnectionKB: perConnection(rawAfterKB - rawBeforeKB),
      serverOpenFiles: server.openFiles,
      generatorRssKB: held.generatorRssKB,
    };
    log(
      `s1 ${kind} N=${n}: held ${held.connected} after idle; RSS after GC ${Math.round(rssBeforeKB / 1024)} → ${Math.round(rssAfterKB / 1024)} MiB = ` +
        `${figures.rssPerConnectionKB} KiB/connection (JS heap ${figures.heapPerConnectionKB} KiB; before GC ${figures.rawRssPerConnectionKB} KiB)`,
    );
    return figures;
  } finally {
    inspector?.close();
    await closeAllConnections().catch((error) => log(`closeAll: ${error.message}`));
    await stopServer(server);
  }
}

async function scenarioDelivery() {
  /** @type {Record<string, any>} */
  const out = {};
  for (const kind of /** @type {const} */ (['ours', 'bare'])) {
    const server = await startServer(kind, `s2-${kind}`);
    try {
      out[kind] = await deliveryRun({
        kind,
        label: `s2-${kind}`,
        connectUrl: server.url,
        publishUrl: server.url,
        receivers: CONFIG.delivery.receivers,
        rates: CONFIG.delivery.rates,
        durationMs: CONFIG.delivery.durationMs,
        drainMs: CONFIG.delivery.drainMs,
        warmup: { rate: CONFIG.delivery.warmupRate, ms: CONFIG.delivery.warmupMs },
        servers: [server],
      });
    } finally {
      await closeAllConnections().catch((error) => log(`closeAll: ${error.message}`));
      await stopServer(server);
    }
  }
  return out;
}

async function scenarioFanout() {
  /** @type {Record<string, any>} */
  const out = {};
  for (const kind of /** @type {const} */ (['ours', 'bare'])) {
    const server = await startServer(kind, `s3-${kind}`);
    try {
      out[kind] = await fanoutRun({ kind, label: `s3-${kind}`, server, transport: 'ws', count: CONFIG.fanout.sockets, ...CONFIG.fanout });
    } finally {
      await closeAllConnections().catch((error) => log(`closeAll: ${error.message}`));
      await stopServer(server);
    }
  }
  return out;
}

async function scenarioRedis() {
  const env = { REDIS_URL, REDIS_KEY_PREFIX: REDIS_PREFIX };
  const a = await startOurs('s4-ours-A', env);
  /** @type {Server | null} */
  let b = null;
  try {
    b = await startOurs('s4-ours-B', env);
    const ours = await deliveryRun({
      kind: 'ours',
      label: 's4-ours',
      connectUrl: b.url,
      publishUrl: a.url,
      receivers: CONFIG.redis.receivers,
      rates: CONFIG.redis.rates,
      durationMs: CONFIG.redis.durationMs,
      drainMs: CONFIG.redis.drainMs,
      warmup: { rate: CONFIG.delivery.warmupRate, ms: CONFIG.delivery.warmupMs },
      servers: [a, b],
    });
    return { ours, baselineNote: 'compared with the bare single-process server of scenario 2 at the same rate (the bare baseline has no Redis)' };
  } finally {
    await closeAllConnections().catch((error) => log(`closeAll: ${error.message}`));
    await Promise.all([stopServer(a), b ? stopServer(b) : Promise.resolve()]);
  }
}

/** Is GET /notifications/stream there? 200 → yes; 404 → not built yet. @param {Server} server */
function probeSse(server) {
  const http = require('node:http');
  const token = jwt.sign({ sub: db.admins[0].id }, JWT_SECRET, { algorithm: 'HS256', expiresIn: 60 });
  return new Promise((resolve) => {
    const request = http.get(`${server.url}/notifications/stream`, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', origin: ORIGIN }, timeout: 5000, agent: false }, (response) => {
      resolve(response.statusCode ?? 0);
      request.destroy();
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(0));
  });
}

async function scenarioSse() {
  /** @type {Record<string, any>} */
  const out = {};
  const ours = await startOurs('s5-ours');
  try {
    const status = await probeSse(ours);
    if (status !== 200) {
      const reason =
        status === 404
          ? 'GET /notifications/stream answered 404: the SSE endpoint is not in this build'
          : `GET /notifications/stream answered ${status || 'nothing'} to a valid ADMIN Bearer token`;
      log(`s5 SSE skipped: ${reason}`);
      return { skipped: reason };
    }
    out.ours = await fanoutRun({ kind: 'ours', label: 's5-ours', server: ours, transport: 'sse', count: CONFIG.sse.streams, ...CONFIG.sse });
  } finally {
    await closeAllConnections().catch((error) => log(`closeAll: ${error.message}`));
    await stopServer(ours);
  }
  const bare = await startBare('s5-bare');
  try {
    out.bare = await fanoutRun({ kind: 'bare', label: 's5-bare', server: bare, transport: 'sse', count: CONFIG.sse.streams, ...CONFIG.sse });
  } finally {
    await closeAllConnections().catch((error) => log(`closeAll: ${error.message}`));
    await stopServer(bare);
  }
  return out;
}

/**
 * One server under --cpu-prof: a handshake burst, user-targeted delivery and tenant broadcasts,
 * each in its own time window (CLOCK_MONOTONIC µs, the profile's clock), summarised per window.
 */
async function profilePhase() {
  mkdirSync(PROFILES, { recursive: true });
  const file = `server-${STAMP}.cpuprofile`;
  const server = await startOurs('profile-ours', {}, ['--cpu-prof', '--cpu-prof-dir', PROFILES, '--cpu-prof-name', file]);
  const mark = () => Number(process.hrtime.bigint() / 1000n);
  /** @type {Record<string, [number, number]>} */
  const windows = {};
  const p = CONFIG.profile;
  try {
    step('profile handshakes');
    let t0 = mark();
    const connection = await connectAll('ours', server.url, adminList(p.sockets));
    windows.handshakes = [t0, mark()];
    log(`profile: ${connection.ok} sockets at ${connection.ratePerSec}/s`);
    step(`profile delivery ${p.rate}/s`);
    t0 = mark();
    const delivery = await runRate({ kind: 'ours', publishUrl: server.url, targets: connection.connectedIds, rate: p.rate, durationMs: p.durationMs, keyPrefix: 'prof', drainMs: 5000 });
    windows.delivery = [t0, mark()];
    log(`profile: delivery p99 ${delivery.latencyMs.p99} ms at ${p.rate}/s`);
    step('profile broadcasts');
    t0 = mark();
    const fanout = await broadcastRounds({ kind: 'ours', label: 'profile', url: server.url, expected: connection.ok, broadcasts: p.broadcasts, gapMs: 500, waitMs: 10_000 });
    windows.fanout = [t0, mark()];
    await closeAllConnections().catch(() => undefined);
    await stopServer(server);
    const profilePath = path.join(PROFILES, file);
    for (let i = 0; i < 50 && !existsSync(profilePath); i++) await sleep(200);
    if (!existsSync(profilePath)) return { error: `no profile written at ${profilePath}` };
    /** @type {Record<string, any>} */
    const summaries = {};
    for (const [name, [from, to]] of Object.entries(windows)) {
      summaries[name] = summarizeFile(profilePath, { from, to, top: 20 });
      log(`profile, ${name}:\n${formatSummary(summaries[name], 8)}`);
    }
    const whole = summarizeFile(profilePath, { top: 20 });
    const inRange = Object.values(windows).every(([from, to]) => from >= whole.startTime && to <= whole.endTime + 1e6);
    return {
      file: path.relative(ROOT, profilePath),
      workload: { sockets: connection.ok, handshakesPerSec: connection.ratePerSec, deliveryRate: p.rate, deliveryP99Ms: delivery.latencyMs.p99, broadcasts: fanout.rounds.length, broadcastLastMsMedian: fanout.lastMsMedian },
      windowsOnProfileClock: inRange,
      windowsUs: windows,
      windows: summaries,
      whole: { ...whole, topFunctions: whole.topFunctions.slice(0, 15) },
    };
  } finally {
    await closeAllConnections().catch(() => undefined);
    await stopServer(server);
  }
}

// ---------------------------------------------------------------------------------------------

/** Keeps the 5 newest run log folders. */
function pruneLogs() {
  const dir = path.join(RESULTS, 'logs');
  const runs = readdirSync(dir)
    .map((name) => ({ name, at: statSync(path.join(dir, name)).mtimeMs }))
    .sort((a, b) => b.at - a.at);
  for (const old of runs.slice(5)) rmSync(path.join(dir, old.name), { recursive: true, force: true });
}

async function versionsOfServices() {
  const { Client } = require('pg');
  /** @type {{ postgres: string | null, redis: string | null }} */
  const out = { postgres: null, redis: null };
  const client = new Client({ connectionString: ADMIN_DB_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    out.postgres = (await client.query('SHOW server_version')).rows[0].server_version;
  } catch {
    // reported as null
  } finally {
    await client.end().catch(() => undefined);
  }
  try {
    const Redis = require(require.resolve('ioredis', { paths: [path.join(ROOT, 'apps/backend')] }));
    const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000 });
    await redis.connect();
    const info = await redis.info('server');
    out.redis = /redis_version:(\S+)/.exec(info)?.[1] ?? null;
    redis.disconnect();
  } catch {
    // reported as null
  }
  return out;
}

async function main() {
  mkdirSync(LOGS, { recursive: true });
  pruneLogs();
  const meta = {
    mode: CONFIG.mode,
    startedAt: new Date().toISOString(),
    machine: machineInfo(ROOT),
    versions: { ...packageVersions(ROOT), ...(await versionsOfServices()) },
    generators: GENERATORS,
    sourceAddresses: Array.from({ length: GENERATORS }, (_, i) => addressesOf(i)).flat(),
    config: CONFIG,
  };
  log(`bench (${CONFIG.mode}): ${meta.machine.nproc} cores, ${meta.machine.memoryGiB} GiB, node ${meta.machine.node}, open files ${meta.machine.limits.openFilesSoft}/${meta.machine.limits.openFilesHard}, load ${meta.machine.loadAverageAtStart.join(' ')}`);
  log(`logs in ${path.relative(ROOT, LOGS)}`);

  db = await createBenchDatabase({ adminUrl: ADMIN_DB_URL, repoRoot: ROOT, users: USER_COUNT, admins: ADMIN_COUNT });
  database = db;
  log(`database ${db.name}: ${db.users.length} USER and ${db.admins.length} ADMIN users in tenant bench`);
  generators = await startGenerators();
  log(`${generators.length} load generators up, source addresses ${meta.sourceAddresses[0]}…${meta.sourceAddresses[meta.sourceAddresses.length - 1]}`);

  /** @type {Record<string, any>} */
  const scenarios = {};
  const plan = /** @type {const} */ ([
    [1, 'connections', 'scenario 1: concurrent authenticated connections', scenarioConnections],
    [2, 'delivery', 'scenario 2: user-targeted delivery, REST publish → socket receive', scenarioDelivery],
    [3, 'fanout', 'scenario 3: tenant fan-out', scenarioFanout],
    [4, 'redis', 'scenario 4: delivery across two instances through Redis', scenarioRedis],
    [5, 'sse', 'scenario 5: SSE fan-out', scenarioSse],
    [6, 'publish', 'scenario 6: publishing beside a floor server (REST rates, batches, in-process sendMany)', () =>
      scenarioPublish({ quick: QUICK, log, step, timeLeft, children, logs: LOGS, results: RESULTS, root: ROOT, db, jwtSecret: JWT_SECRET, publisherToken, startOurs, stopServer, connectAll, closeAllConnections, runRate, userList, redisEnv: { REDIS_URL, REDIS_KEY_PREFIX: `${REDIS_PREFIX}two` } })],
  ]);
  for (const [number, key, title, run] of plan) {
    if (aborting) break;
    if (!ONLY.includes(number)) continue;
    if (timeLeft() < 15_000) {
      scenarios[key] = { skipped: 'not enough time left before the deadline' };
      continue;
    }
    log(`— ${title}`);
    try {
      scenarios[key] = await run();
    } catch (error) {
      log(`${title} failed: ${error instanceof Error ? error.stack : String(error)}`);
      scenarios[key] = { error: error instanceof Error ? error.message : String(error) };
      await closeAllConnections().catch(() => undefined);
    }
  }

  let profile = null;
  if (PROFILE && !aborting) {
    if (timeLeft() > 60_000 || QUICK) {
      log('— profile: server under --cpu-prof (handshakes, delivery, broadcasts)');
      profile = await profilePhase().catch((error) => ({ error: error instanceof Error ? error.message : String(error) }));
    } else {
      profile = { skipped: 'not enough time left before the deadline' };
    }
  }

  if (aborting) return;
  const loadAverageAtEnd = require('node:os').loadavg().map((v) => round(v, 2));
  /** @type {Record<string, any>} */
  const results = { meta: { ...meta, finishedAt: new Date().toISOString(), durationSec: Math.round((Date.now() - started) / 1000), loadAverageAtEnd }, scenarios, profile };
  results.targets = report.targetChecks(results);
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(path.join(RESULTS, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(path.join(RESULTS, `${CONFIG.mode}-${STAMP}.json`), `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`\n${report.consoleTable(results)}\n${publishLines(scenarios.publish).join('\n')}\n\n`);
  log('wrote bench/results/latest.json');
  if (CONFIG.mode === 'full' && !flag('no-docs') && ONLY.length === 6) {
    writeFileSync(path.join(ROOT, 'docs', 'BENCHMARKS.md'), report.markdown(results, ROOT));
    log('wrote docs/BENCHMARKS.md');
  } else {
    log('docs/BENCHMARKS.md left as is (regenerated by a full run of every scenario)');
  }
}

main()
  .then(
    () => cleanup(),
    async (error) => {
      log(`bench failed: ${error instanceof Error ? error.stack : String(error)}`);
      await cleanup();
      process.exitCode = 1;
    },
  )
  .finally(() => {
    clearTimeout(hardDeadline);
    clearInterval(progressTimer);
    log(`done in ${Math.round((Date.now() - started) / 1000)}s`);
    // Nothing of ours may linger: generators and servers are stopped; exit even if a handle is left.
    setTimeout(() => process.exit(), 200).unref();
  });
