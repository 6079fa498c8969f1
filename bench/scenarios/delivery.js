'use strict';
/** Scenarios 2 and 4: user-targeted delivery (REST publish → socket), on one server and across two instances through Redis. */
const { CONFIG, REDIS_PREFIX, REDIS_URL } = require('../lib/config.js');
const { closeAllConnections } = require('../lib/fleet.js');
const { deliveryRun } = require('../lib/measure.js');
const { log } = require('../lib/output.js');
const { startOurs, startServer, stopServer } = require('../lib/servers.js');

/** @typedef {import('../lib/servers.js').Server} Server */

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

module.exports = { scenarioDelivery, scenarioRedis };
