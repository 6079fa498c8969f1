'use strict';
/**
 * Server CPU per REST publish of two gateway builds side by side (an A/B of a change), beside
 * the floor server: each server gets the same closed loops of single POST /notifications (or
 * POST /emit for the floor), in alternating rounds, with sockets connected to every target
 * user. CPU is read from /proc per round, so the figure does not depend on how fast the loaded
 * machine lets the loop run. Run it under the bench lock, after `npm run build`:
 *
 *   flock /tmp/bench.lock node bench/publish/ab-closed-loop.js --a=<dist dir> [--b=<dist dir>]
 *     [--rounds=6] [--round-ms=4000] [--warmup-ms=8000] [--concurrency=32] [--receivers=50]
 *     [--no-floor] [--profile=a|b] [--redis]
 *
 * A dist dir is apps/backend/dist or a copy of it (e.g. the build before a change). With
 * --profile, that server runs under --cpu-prof and its profile is summarised at the end.
 */

const path = require('node:path');
const http = require('node:http');
const { existsSync, mkdirSync, readdirSync } = require('node:fs');
const jwt = require('jsonwebtoken');
const { io } = require('socket.io-client');
const children = require('../lib/children.js');
const { createBenchDatabase, dropBenchDatabase } = require('../lib/db.js');
const { ADMIN_DB_URL, JWT_SECRET, ORIGIN, REDIS_URL, RESULTS, ROOT, STAMP } = require('../lib/config.js');
const { formatSummary, summarizeFile } = require('../profile-summary.js');

const argv = process.argv.slice(2);
const option = (/** @type {string} */ name, /** @type {string} */ fallback) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const has = (/** @type {string} */ name) => argv.includes(`--${name}`);

const ROUNDS = Number(option('rounds', '6'));
const ROUND_MS = Number(option('round-ms', '4000'));
const WARMUP_MS = Number(option('warmup-ms', '8000'));
const CONCURRENCY = Number(option('concurrency', '32'));
const RECEIVERS = Number(option('receivers', '50'));
const PROFILE = option('profile', '');
const LOGS = path.join(RESULTS, 'logs', `ab-${STAMP}`);
const PROFILES = path.join(RESULTS, 'profiles');

/** @typedef {{ name: string, floor: boolean, child: import('node:child_process').ChildProcess, pid: number, url: string, profileDir?: string }} Server */

/** @param {string} name @param {string} script @param {Record<string, string>} env @param {string[]} nodeArgs @param {boolean} floor @returns {Promise<Server>} */
async function start(name, script, env, nodeArgs, floor) {
  const port = await children.freePort();
  const logFile = path.join(LOGS, `${name}.log`);
  const child = children.spawnNode({ name, script, nodeArgs, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'production', HOST: '127.0.0.1', PORT: String(port), ...env }, cwd: RESULTS, logFile });
  const url = `http://127.0.0.1:${port}`;
  await children.waitReady(child, `${url}/health/ready`, 60_000, logFile);
  return { name, floor, child, pid: /** @type {number} */ (child.pid), url };
}

/** @param {string} url @param {{ id: string }[]} users @param {boolean} floor @param {string} tenantId */
async function connectReceivers(url, users, floor, tenantId) {
  return Promise.all(
    users.map(
      (user) =>
        new Promise((resolve, reject) => {
          const auth = floor ? { uid: user.id, tid: tenantId, admin: false } : { token: jwt.sign({ sub: user.id }, JWT_SECRET, { algorithm: 'HS256', expiresIn: 3600 }) };
          const socket = io(`${url}/notifications`, { transports: ['websocket'], reconnection: false, forceNew: true, auth, extraHeaders: { origin: ORIGIN } });
          socket.once('connect', () => resolve(socket));
          socket.once('connect_error', reject);
        }),
    ),
  );
}

/**
 * Closed loop: CONCURRENCY requests always in flight for `ms`; returns how many answered 201/200.
 * @param {Server} server @param {string} token @param {string[]} targets @param {number} ms
 */
async function closedLoop(server, token, targets, ms) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const base = new URL(server.url);
  const deadline = Date.now() + ms;
  let ok = 0;
  let failed = 0;
  let next = 0;
  const once = () =>
    new Promise((resolve) => {
      const target = targets[next++ % targets.length];
      const body = server.floor
        ? { room: `user:${target}`, event: 'notification:new', payload: { id: String(next), title: 'Bench notification', content: 'Load test payload from the bench harness', priority: 'medium' } }
        : { title: 'Bench notification', content: 'Load test payload from the bench harness', priority: 'medium', scope: 'USER', userId: target, data: { b: 1 } };
      const payload = JSON.stringify(body);
      const headers = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)), ...(server.floor ? {} : { authorization: `Bearer ${token}` }) };
      const request = http.request({ host: base.hostname, port: base.port, path: server.floor ? '/emit' : '/notifications', method: 'POST', agent, headers }, (response) => {
        response.resume();
        response.on('end', () => {
          if (response.statusCode === 201 || response.statusCode === 200) ok += 1;
          else failed += 1;
          resolve(undefined);
        });
      });
      request.on('error', () => {
        failed += 1;
        resolve(undefined);
      });
      request.end(payload);
    });
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < deadline) await once();
    }),
  );
  agent.destroy();
  return { ok, failed };
}

/** @param {number[]} values */
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};

async function main() {
  mkdirSync(LOGS, { recursive: true });
  mkdirSync(PROFILES, { recursive: true });
  const builds = [['a', option('a', '')], ['b', option('b', '')]].filter(([, dir]) => dir);
  if (builds.length === 0) throw new Error('give --a=<dist dir> (and --b=<dist dir>)');
  const db = await createBenchDatabase({ adminUrl: ADMIN_DB_URL, repoRoot: ROOT, users: RECEIVERS, admins: 2 });
  /** @type {Server[]} */
  const servers = [];
  /** @type {{ from: number, to: number } | undefined} */
  let profileWindow;
  try {
    const gatewayEnv = {
      DATABASE_URL: db.url,
      JWT_SECRET,
      FRONTEND_URL: ORIGIN,
      LOG_LEVEL: 'warn',
      MAX_CONNECTIONS_PER_USER: '100',
      HTTP_RATE_LIMIT_CREATE: '1000000',
      ...(has('redis') ? { REDIS_URL, REDIS_KEY_PREFIX: `ngwab${Date.now()}` } : {}),
    };
    for (const [name, dir] of builds) {
      const profileDir = PROFILE === name ? path.join(PROFILES, `ab-${STAMP}-${name}`) : undefined;
      const server = await start(name, path.resolve(dir, 'main.js'), gatewayEnv, profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [], false);
      servers.push({ ...server, profileDir });
    }
    if (!has('no-floor')) servers.push(await start('floor', path.join(__dirname, 'floor-server.js'), { DATABASE_URL: db.url }, [], true));
    const token = jwt.sign({ sub: db.admins[0]?.id }, JWT_SECRET, { algorithm: 'HS256', expiresIn: 3600 });
    const targets = db.users.map((user) => user.id);
    const sockets = [];
    for (const server of servers) sockets.push(...(await connectReceivers(server.url, db.users, server.floor, db.tenantId)));
    for (const server of servers) await closedLoop(server, token, targets, WARMUP_MS);
    // The profile is summarised over the measured rounds only (its clock is CLOCK_MONOTONIC µs).
    const mark = () => Number(process.hrtime.bigint() / 1000n);
    const measuredFrom = mark();
    /** @type {Record<string, number[]>} */
    const cpuPerPublish = Object.fromEntries(servers.map((s) => [s.name, []]));
    /** @type {Record<string, number[]>} */
    const rates = Object.fromEntries(servers.map((s) => [s.name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate the order so neither build always runs right after the other.
      const order = round % 2 === 0 ? servers : [...servers].reverse();
      for (const server of order) {
        const before = children.cpuMs(server.pid);
        const { ok, failed } = await closedLoop(server, token, targets, ROUND_MS);
        const cpu = children.cpuMs(server.pid) - before;
        cpuPerPublish[server.name]?.push(cpu / Math.max(1, ok));
        rates[server.name]?.push((ok * 1000) / ROUND_MS);
        if (failed > 0) console.log(`${server.name}: ${failed} failed in round ${round}`);
      }
    }
    profileWindow = { from: measuredFrom, to: mark() };
    for (const socket of sockets) /** @type {import('socket.io-client').Socket} */ (socket).close();
    console.log(`load average ${require('node:os').loadavg().map((l) => l.toFixed(1)).join(' ')}; ${ROUNDS} rounds of ${ROUND_MS} ms, ${CONCURRENCY} in flight, ${RECEIVERS} receivers`);
    for (const server of servers) {
      const cpu = /** @type {number[]} */ (cpuPerPublish[server.name]);
      console.log(`${server.name}: CPU per publish median ${median(cpu).toFixed(3)} ms (rounds ${cpu.map((v) => v.toFixed(2)).join(' ')}); rate median ${Math.round(median(/** @type {number[]} */ (rates[server.name])))}/s`);
    }
  } finally {
    for (const server of servers) await children.stopChild(server.child, 15_000);
    await dropBenchDatabase(ADMIN_DB_URL, db.name).catch(() => undefined);
  }
  for (const server of servers) {
    if (!server.profileDir || !existsSync(server.profileDir)) continue;
    for (const file of readdirSync(server.profileDir)) {
      console.log(`profile of ${server.name} (${path.join(server.profileDir, file)}):\n${formatSummary(summarizeFile(path.join(server.profileDir, file), { top: 40, ...profileWindow }), 40)}`);
    }
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    children.killAllSync();
    process.exit(1);
  },
);
