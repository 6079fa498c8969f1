'use strict';
/** Lifecycle: everything a run starts is stopped, whatever happens (end, signal, hard deadline). */
const path = require('node:path');
const { readdirSync, rmSync, statSync } = require('node:fs');
const children = require('./children.js');
const { dropBenchDatabase } = require('./db.js');
const { withTimeout } = require('./util.js');
const { ADMIN_DB_URL, CONFIG, ONLY, REDIS_PREFIX, REDIS_URL, RESULTS, ROOT } = require('./config.js');
const { log, started } = require('./output.js');

/** @typedef {{ url: string, name: string, tenantId: string, users: { id: string }[], admins: { id: string }[] }} BenchDb */

/**
 * What the run holds while it runs; the parts of the bench read it from here. `database` is
 * what cleanup drops (null once dropped); `db` stays for the run's users and tenant.
 * @type {{ database: { name: string, url: string } | null, db: BenchDb | null, generators: ReturnType<typeof children.ipcClient>[], aborting: boolean }}
 */
const bench = { database: null, db: null, generators: [], aborting: false };

/** The bench database's users and tenant (created by main before any scenario). */
function benchDb() {
  if (!bench.db) throw new Error('no bench database yet');
  return bench.db;
}

/** @type {Promise<void> | null} */
let cleaning = null;

async function cleanup() {
  if (cleaning) return cleaning;
  cleaning = (async () => {
    await Promise.allSettled(bench.generators.map((g) => withTimeout(g.call('exit', {}, 5000), 6000, 'generator exit')));
    await children.shutdown();
    if (bench.database) {
      const name = bench.database.name;
      bench.database = null;
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
  if (!ONLY.includes(4) && !ONLY.includes(7)) return;
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

/** Kills children on exit, cleans up on SIGINT/SIGTERM and at the hard deadline; returns the stop function. */
function installLifecycle() {
  process.on('exit', () => children.killAllSync());
  for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
    process.on(signal, () => {
      bench.aborting = true;
      log(`${signal}: stopping children and dropping the database`);
      void cleanup().finally(() => process.exit(130));
    });
  }
  const hardDeadline = setTimeout(() => {
    bench.aborting = true;
    log(`hard deadline of ${CONFIG.deadlineMs / 1000}s reached: aborting`);
    void cleanup().finally(() => process.exit(1));
  }, CONFIG.deadlineMs + 60_000);
  hardDeadline.unref();
  return () => clearTimeout(hardDeadline);
}

/** Keeps the 5 newest run log folders. */
function pruneLogs() {
  const dir = path.join(RESULTS, 'logs');
  const runs = readdirSync(dir)
    .map((name) => ({ name, at: statSync(path.join(dir, name)).mtimeMs }))
    .sort((a, b) => b.at - a.at);
  for (const old of runs.slice(5)) rmSync(path.join(dir, old.name), { recursive: true, force: true });
}

const timeLeft = () => CONFIG.deadlineMs - (Date.now() - started);

module.exports = { bench, benchDb, cleanup, installLifecycle, pruneLogs, timeLeft };
