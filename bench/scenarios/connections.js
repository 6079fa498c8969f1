'use strict';
/** Scenario 1: concurrent authenticated connections, ours against the bare baseline (memory, handshake rate, CPU). */
const children = require('../lib/children.js');
const { round, sleep } = require('../lib/util.js');
const { CONFIG } = require('../lib/config.js');
const { closeAllConnections, connectAll, statsAll, userList } = require('../lib/fleet.js');
const { bench, timeLeft } = require('../lib/lifecycle.js');
const { log, step } = require('../lib/output.js');
const { sampleRss, settledMemory, startServer, stopServer } = require('../lib/servers.js');
const { openSnapshotSession, perConnection: heapDiffPerConnection, retainersPerConnection } = require('./connections-heap.js');

/** BENCH_HEAP_DIFF=1: a heap-snapshot diff per connection as well (slow; for finding what a socket holds). */
const HEAP_DIFF = process.env.BENCH_HEAP_DIFF === '1';

async function scenarioConnections() {
  const rows = [];
  for (const n of CONFIG.connections.sizes) {
    /** @type {Record<string, any>} */
    const row = { n };
    for (const kind of /** @type {const} */ (['ours', 'bare'])) {
      if (bench.aborting) break;
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
  /** @type {Awaited<ReturnType<typeof openSnapshotSession>> | null} */
  let inspector = null;
  try {
    inspector = await openSnapshotSession(await children.inspectorUrl(server.logFile));
    await sleep(CONFIG.settleMs);
    const rawBeforeKB = await sampleRss(server.pid);
    const { rssKB: rssBeforeKB, memory: before } = await settledMemory(server, inspector);
    const heapBefore = HEAP_DIFF ? await inspector.take() : undefined;
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
    const heapAfter = heapBefore ? await inspector.take(heapBefore.ids) : undefined;
    const heapDiff =
      heapBefore && heapAfter && connection.ok > 0
        ? { ...heapDiffPerConnection(heapBefore.groups, heapAfter.groups, connection.ok), retainers: heapAfter.retainedBy ? retainersPerConnection(heapAfter.retainedBy, connection.ok) : [] }
        : undefined;
    if (heapDiff) {
      log(`s1 ${kind} N=${n} heap-snapshot diff per connection: ${heapDiff.totalBytes} B\n${heapDiff.top.map((row) => `  ${row.bytes} B ${row.objects} × ${row.kind}`).join('\n')}`);
      log(`s1 ${kind} N=${n} new objects per connection by retainer path:\n${heapDiff.retainers.map((row) => `  ${row.bytes} B ${row.objects} × ${row.path}`).join('\n')}`);
    }
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
      // How long the forced GCs took with the sockets held (the N = 20,000 step once timed out at 30 s).
      gcMsAfterIdle: /** @type {{ gcMs?: number }} */ (after).gcMs ?? null,
      ...(heapDiff ? { heapDiffPerConnection: heapDiff } : {}),
    };
    log(
      `s1 ${kind} N=${n}: held ${held.connected} after idle; RSS after GC ${Math.round(rssBeforeKB / 1024)} → ${Math.round(rssAfterKB / 1024)} MiB = ` +
        `${figures.rssPerConnectionKB} KiB/connection (JS heap ${figures.heapPerConnectionKB} KiB; before GC ${figures.rawRssPerConnectionKB} KiB; forced GCs took ${figures.gcMsAfterIdle} ms; ` +
        `open-file limit ${server.openFiles?.soft}: ${held.connected} of ${n} held)`,
    );
    return figures;
  } finally {
    inspector?.close();
    await closeAllConnections().catch((error) => log(`closeAll: ${error.message}`));
    await stopServer(server);
  }
}

module.exports = { scenarioConnections };
