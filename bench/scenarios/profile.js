'use strict';
/** The CPU profile: one server under --cpu-prof through handshakes, delivery and broadcasts. */
const path = require('node:path');
const { existsSync, mkdirSync } = require('node:fs');
const { sleep } = require('../lib/util.js');
const { CONFIG, PROFILES, ROOT, STAMP } = require('../lib/config.js');
const { adminList, closeAllConnections, connectAll } = require('../lib/fleet.js');
const { broadcastRounds, runRate } = require('../lib/measure.js');
const { log, step } = require('../lib/output.js');
const { startOurs, stopServer } = require('../lib/servers.js');
const { formatSummary, summarizeFile } = require('../profile-summary.js');

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

module.exports = { profilePhase };
