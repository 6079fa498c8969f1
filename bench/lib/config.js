'use strict';
/**
 * What a bench run does: the command line, the sizes of each scenario (quick or full), and the
 * fixed settings every part of the run shares.
 */
const path = require('node:path');
const { randomBytes } = require('node:crypto');

const USAGE = `usage: npm run bench [-- --quick] [-- --only=1,3] [-- --publish] [-- --churn] [-- --store] [-- --no-profile] [-- --profile] [-- --generators=N] [-- --no-docs]

  --quick          small sizes, about two minutes (the CI-sized run)
  --only=1,3       run only these scenarios (1 connections, 2 delivery, 3 fan-out, 4 Redis, 5 SSE, 6 publishing, 7 churn)
  --publish        only scenario 6, without the profile
  --publish-phases=single,batch,sendmany,two
                   scenario 6's phases to run (default all): REST singles, HTTP batches,
                   in-process sendMany, two instances at once
  --churn          only scenario 7: churn and a rolling restart (--churn-clients=N, --churn-rate=R,
                   --churn-kill-share=0.01, --churn-kill-every=15000, --churn-kinds=ours,bare,bare-csr,
                   --churn-balancers=N (default one per 6,000 clients), --churn-publish-from=own|clients)
  --store          only the store growth run: its own database filled to 1M then 10M rows
                   (--quick: 1M then 3M; --store-sizes=1000000,3000000)
  --no-profile     skip the CPU profile (a full run takes one by default)
  --profile        take the CPU profile in a quick run too
  --generators=N   load generator processes (at least 2, default 2)
  --no-docs        a full run leaves docs/BENCHMARKS.md as is
  --help           this text
`;

const argv = process.argv.slice(2);
const flag = (/** @type {string} */ name) => argv.includes(`--${name}`);
const option = (/** @type {string} */ name) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];

const ROOT = path.resolve(__dirname, '..', '..');
const RESULTS = path.join(ROOT, 'bench', 'results');
const STAMP = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');

const QUICK = flag('quick');
const ONLY = flag('churn') ? [7] : flag('publish') ? [6] : (option('only')?.split(',').map(Number) ?? (QUICK ? [1, 2, 3, 4, 5, 6] : [1, 2, 3, 4, 5, 6, 7]));
const PROFILE = flag('profile') || (!QUICK && !flag('no-profile') && !flag('publish'));
const GENERATORS = Math.max(2, Number(option('generators') ?? 2));
const PUBLISH_PHASES = new Set(option('publish-phases')?.split(',') ?? ['single', 'batch', 'sendmany', 'two']);

const CONFIG = QUICK
  ? {
      mode: 'quick',
      deadlineMs: 100_000,
      settleMs: 1000,
      connections: { sizes: [2000], idleMs: 3000, concurrencyPerGenerator: 48, deadlineMs: 20_000 },
      delivery: { receivers: 200, rates: [100, 1000], durationMs: 3000, warmupRate: 100, warmupMs: 1000, drainMs: 4000 },
      fanout: { sockets: 2000, warmupBroadcasts: 2, broadcasts: 3, gapMs: 300, waitMs: 5000 },
      redis: { receivers: 200, rates: [500], durationMs: 3000, drainMs: 4000 },
      sse: { streams: 200, warmupBroadcasts: 2, broadcasts: 3, gapMs: 300, waitMs: 5000 },
      profile: { sockets: 1000, rate: 300, durationMs: 3000, broadcasts: 3 },
      maxInFlightPerGenerator: 1000,
    }
  : {
      mode: 'full',
      deadlineMs: 40 * 60_000,
      settleMs: 2000,
      connections: { sizes: [1000, 5000, 10_000, 20_000], idleMs: 10_000, concurrencyPerGenerator: 48, deadlineMs: 180_000 },
      delivery: { receivers: 1000, rates: [100, 500, 1000], durationMs: 15_000, warmupRate: 200, warmupMs: 3000, drainMs: 10_000 },
      fanout: { sockets: 10_000, warmupBroadcasts: 2, broadcasts: 5, gapMs: 1000, waitMs: 15_000 },
      redis: { receivers: 1000, rates: [100, 500, 1000], durationMs: 15_000, drainMs: 10_000 },
      sse: { streams: 1000, warmupBroadcasts: 2, broadcasts: 11, gapMs: 1000, waitMs: 15_000 },
      profile: { sockets: 5000, rate: 500, durationMs: 10_000, broadcasts: 5 },
      maxInFlightPerGenerator: 2000,
    };

// The churn scenario (7) runs three servers' worth of rolling restarts: its own time budget.
if (ONLY.includes(7)) CONFIG.deadlineMs += QUICK ? 420_000 : 1_200_000;
// The publish scenario (6) warms the gateway and the floor up before every measured phase: its own time budget.
if (ONLY.includes(6)) CONFIG.deadlineMs += QUICK ? 90_000 : 300_000;

const PUBLISHERS = GENERATORS;

module.exports = {
  USAGE,
  flag,
  option,
  ROOT,
  RESULTS,
  STAMP,
  LOGS: path.join(RESULTS, 'logs', STAMP),
  PROFILES: path.join(RESULTS, 'profiles'),
  ORIGIN: 'http://bench.local',
  NAMESPACE: '/notifications',
  ADMIN_DB_URL: process.env.BENCH_PG_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
  REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
  QUICK,
  ONLY,
  PROFILE,
  GENERATORS,
  PUBLISH_PHASES,
  ADDRESSES_PER_GENERATOR: 4,
  CONFIG,
  USER_COUNT: Math.max(...CONFIG.connections.sizes, CONFIG.delivery.receivers, CONFIG.redis.receivers),
  PUBLISHERS,
  ADMIN_COUNT: Math.max(CONFIG.fanout.sockets, CONFIG.sse.streams, CONFIG.profile.sockets) + PUBLISHERS,
  JWT_SECRET: randomBytes(48).toString('base64url'),
  TOKEN_TTL_SEC: 2 * 3600,
  REDIS_PREFIX: `ngwbench${Date.now()}`,
};
