'use strict';
/** The load generators (child processes, each on its own loopback source addresses) and the bench's users. */
const path = require('node:path');
const jwt = require('jsonwebtoken');
const children = require('./children.js');
const { round, withTimeout } = require('./util.js');
const { ADDRESSES_PER_GENERATOR, CONFIG, GENERATORS, JWT_SECRET, LOGS, NAMESPACE, ORIGIN, ROOT, TOKEN_TTL_SEC } = require('./config.js');
const { benchDb, bench } = require('./lifecycle.js');
const { onProgress } = require('./output.js');

/** @param {number} i */
const addressesOf = (i) => Array.from({ length: ADDRESSES_PER_GENERATOR }, (_, j) => `127.0.0.${2 + i * ADDRESSES_PER_GENERATOR + j}`);

async function startGenerators() {
  const list = [];
  for (let i = 0; i < GENERATORS; i++) {
    const name = `gen-${i}`;
    const child = children.spawnNode({
      name,
      script: path.join(ROOT, 'bench', 'generator.js'),
      args: [name],
      nodeArgs: ['--max-old-space-size=4096'],
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production' },
      cwd: ROOT,
      logFile: path.join(LOGS, `${name}.log`),
      ipc: true,
    });
    const client = children.ipcClient(child, name, onProgress);
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
      bench.generators.map((g, i) =>
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
  const parts = /** @type {any[]} */ (await Promise.all(bench.generators.map((g) => g.call('stats', {}, 20_000))));
  return {
    connected: parts.reduce((n, p) => n + p.connected, 0),
    streamsOpen: parts.reduce((n, p) => n + p.streamsOpen, 0),
    drops: parts.reduce((n, p) => n + p.drops, 0),
    generatorRssKB: parts.map((p) => p.rssKB),
    generatorCpuMs: parts.reduce((n, p) => n + p.cpuMs, 0),
  };
}

async function closeAllConnections() {
  await Promise.all(bench.generators.map((g) => g.call('closeAll', {}, 30_000)));
}

/** @param {number} n @returns {BenchUser[]} */
const userList = (n) => benchDb().users.slice(0, n).map((u) => ({ id: u.id, tenantId: benchDb().tenantId, admin: false }));
/** @param {number} n @returns {BenchUser[]} */
const adminList = (n) => benchDb().admins.slice(0, n).map((u) => ({ id: u.id, tenantId: benchDb().tenantId, admin: true }));
/** Publishers are the last admins: never among the connected receivers. @param {number} i */
const publisherToken = (i) => {
  const { admins } = benchDb();
  return jwt.sign({ sub: admins[admins.length - 1 - i].id }, JWT_SECRET, { algorithm: 'HS256', expiresIn: TOKEN_TTL_SEC });
};

module.exports = { addressesOf, startGenerators, mergeCounts, connectAll, statsAll, closeAllConnections, userList, adminList, publisherToken };
