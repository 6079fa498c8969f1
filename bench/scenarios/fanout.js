'use strict';
/** Scenarios 3 and 5: tenant fan-out to sockets, and to SSE streams. */
const jwt = require('jsonwebtoken');
const { CONFIG, JWT_SECRET, ORIGIN } = require('../lib/config.js');
const { closeAllConnections } = require('../lib/fleet.js');
const { benchDb } = require('../lib/lifecycle.js');
const { fanoutRun, pairedFanoutRun } = require('../lib/measure.js');
const { log } = require('../lib/output.js');
const { startBare, startOurs, startServer, stopServer } = require('../lib/servers.js');

/** @typedef {import('../lib/servers.js').Server} Server */

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

/** Is GET /notifications/stream there? 200 → yes; 404 → not built yet. @param {Server} server */
function probeSse(server) {
  const http = require('node:http');
  const token = jwt.sign({ sub: benchDb().admins[0].id }, JWT_SECRET, { algorithm: 'HS256', expiresIn: 60 });
  return new Promise((resolve) => {
    const request = http.get(`${server.url}/notifications/stream`, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', origin: ORIGIN }, timeout: 5000, agent: false }, (response) => {
      resolve(response.statusCode ?? 0);
      request.destroy();
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(0));
  });
}

/**
 * BENCH_SSE_PROFILE=<dir>: both SSE servers run under --cpu-prof into <dir> (s5-ours.cpuprofile,
 * s5-bare.cpuprofile; summarise with bench/profile-summary.js). Off by default: the profiler slows both.
 * @param {string} name
 */
function sseProfileArgs(name) {
  const dir = process.env.BENCH_SSE_PROFILE;
  return dir ? ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-name', `${name}.cpuprofile`] : [];
}

/**
 * Both servers up at once and their broadcasts interleaved (`pairedFanoutRun`): the ratio is
 * taken under the same machine conditions for both.
 */
async function scenarioSse() {
  const ours = await startOurs('s5-ours', {}, sseProfileArgs('s5-ours'));
  /** @type {Server | undefined} */
  let bare;
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
    bare = await startBare('s5-bare', sseProfileArgs('s5-bare'));
    return await pairedFanoutRun({ label: 's5', servers: { ours, bare }, transport: 'sse', count: CONFIG.sse.streams, ...CONFIG.sse });
  } finally {
    await closeAllConnections().catch((error) => log(`closeAll: ${error.message}`));
    await stopServer(ours);
    if (bare) await stopServer(bare);
  }
}

module.exports = { scenarioFanout, scenarioSse };
