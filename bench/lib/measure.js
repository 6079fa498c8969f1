'use strict';
/** The measurements the scenarios are made of: publishing at a rate, delivery runs, broadcast rounds, fan-out runs. */
const children = require('./children.js');
const { round, sleep, summarize } = require('./util.js');
const { CONFIG, GENERATORS } = require('./config.js');
const { addressesOf, adminList, connectAll, mergeCounts, publisherToken, statsAll, userList } = require('./fleet.js');
const { benchDb, bench, timeLeft } = require('./lifecycle.js');
const { log, step } = require('./output.js');

/** @typedef {import('./servers.js').Server} Server */

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
      bench.generators.map((g, i) =>
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
    const counts = /** @type {any[]} */ (await Promise.all(bench.generators.map((g) => g.call('countReceived', { prefix: c.keyPrefix }, 20_000))));
    if (counts.reduce((n, x) => n + x.keys, 0) >= okKeys.size) break;
    await sleep(200);
  }
  const collected = /** @type {Record<string, number[]>[]} */ (await Promise.all(bench.generators.map((g) => g.call('collect', { prefix: c.keyPrefix }, 60_000))));
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
      await bench.generators[0].call(
        'postOne',
        { kind: c.kind, url: c.url, token: c.kind === 'ours' ? publisherToken(0) : undefined, scope: 'TENANT', tenantId: benchDb().tenantId, key, timeoutMs: 10_000, localAddress: addressesOf(0)[0] },
        20_000,
      )
    );
    if (post.status !== 201) {
      rounds.push({ broadcast: b, error: post.error ?? `HTTP ${post.status}` });
      continue;
    }
    const until = Date.now() + c.waitMs;
    while (Date.now() < until) {
      const counts = /** @type {any[]} */ (await Promise.all(bench.generators.map((g) => g.call('countReceived', { prefix: key }, 20_000))));
      if (counts.reduce((n, x) => n + x.copies, 0) >= c.expected) break;
      await sleep(50);
    }
    const parts = /** @type {Record<string, number[]>[]} */ (await Promise.all(bench.generators.map((g) => g.call('collect', { prefix: key }, 60_000))));
    const serverCpuMs = c.server ? round(children.cpuMs(c.server.pid) - cpuBefore, 0) : null;
    const latencies = parts.flatMap((p) => p[key] ?? []);
    const s = summarize(latencies);
    rounds.push({ broadcast: b, received: latencies.length, missing: Math.max(0, c.expected - latencies.length), httpMs: round(post.httpMs), lastMs: s.max, p50Ms: s.p50, p99Ms: s.p99, serverCpuMs });
    log(`${c.label} broadcast ${b + 1}/${c.broadcasts}: ${latencies.length}/${c.expected} got it; last after ${s.max} ms (p50 ${s.p50}, POST answered in ${round(post.httpMs)} ms)`);
    await sleep(c.gapMs);
  }
  return summarizeRounds(rounds);
}

/** The medians over broadcast rounds (those that reached a connection at all). @param {any[]} rounds */
function summarizeRounds(rounds) {
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
 * `count` ADMIN connections of the bench tenant to one server, logged.
 * @param {string} label @param {'ours'|'bare'} kind @param {string} url @param {number} count @param {'ws'|'sse'} transport
 */
async function openAdmins(label, kind, url, count, transport) {
  step(`${label} connect ${count}`);
  const connection = await connectAll(kind, url, adminList(count), transport);
  log(`${label}: ${connection.ok}/${count} ${transport === 'ws' ? 'sockets' : 'streams'} open (${connection.ratePerSec}/s)${connection.failed ? `, failures ${JSON.stringify(connection.errors)}` : ''}`);
  return connection;
}

/**
 * `warmupBroadcasts` rounds go first, to ours and bare alike, and are not counted: the first
 * broadcasts after the connections open measure the JIT warming the publish path, not fan-out.
 * @param {{ kind: 'ours'|'bare', label: string, server: Server, transport: 'ws'|'sse', count: number, warmupBroadcasts?: number, broadcasts: number, gapMs: number, waitMs: number }} c
 */
async function fanoutRun(c) {
  const connection = await openAdmins(c.label, c.kind, c.server.url, c.count, c.transport);
  await sleep(CONFIG.settleMs);
  if (c.warmupBroadcasts) {
    step(`${c.label} warm-up broadcasts`);
    await broadcastRounds({ kind: c.kind, label: `${c.label}-warm`, url: c.server.url, expected: connection.ok, broadcasts: c.warmupBroadcasts, gapMs: c.gapMs, waitMs: c.waitMs });
  }
  step(`${c.label} broadcasts`);
  const result = await broadcastRounds({ kind: c.kind, label: c.label, url: c.server.url, expected: connection.ok, broadcasts: c.broadcasts, gapMs: c.gapMs, waitMs: c.waitMs, server: c.server });
  return { attempted: c.count, connected: connection.ok, failed: connection.failed, errors: connection.errors, ...result };
}

/**
 * Ours and bare side by side, each with `count` connections open at once, their rounds
 * interleaved (ours first in the 1st, 3rd… round, bare in the 2nd, 4th…), so that both meet the
 * machine as it is from one second to the next. Run one kind after the other, each met whatever the shared
 * machine did in its own half-minute: 11 rounds of SSE gave 1.92×, 0.91× and 1.25× in three runs
 * a minute apart, bare's median alone moving 23–39 ms.
 * @param {{ label: string, servers: { ours: Server, bare: Server }, transport: 'ws'|'sse', count: number, warmupBroadcasts?: number, broadcasts: number, gapMs: number, waitMs: number }} c
 */
async function pairedFanoutRun(c) {
  const kinds = /** @type {const} */ (['ours', 'bare']);
  /** @type {Record<string, any>} */
  const connections = {};
  for (const kind of kinds) connections[kind] = await openAdmins(`${c.label}-${kind}`, kind, c.servers[kind].url, c.count, c.transport);
  await sleep(CONFIG.settleMs);
  /** @param {'ours'|'bare'} kind @param {string} label @param {boolean} measured */
  const once = async (kind, label, measured) =>
    (await broadcastRounds({ kind, label, url: c.servers[kind].url, expected: connections[kind].ok, broadcasts: 1, gapMs: c.gapMs, waitMs: c.waitMs, server: measured ? c.servers[kind] : undefined })).rounds;
  step(`${c.label} warm-up broadcasts`);
  for (let w = 0; w < (c.warmupBroadcasts ?? 0); w++) for (const kind of kinds) await once(kind, `${c.label}-${kind}-warm${w + 1}`, false);
  step(`${c.label} broadcasts, interleaved`);
  /** @type {Record<string, any[]>} */
  const rounds = { ours: [], bare: [] };
  for (let b = 0; b < c.broadcasts; b++) {
    for (const kind of b % 2 === 0 ? kinds : [...kinds].reverse()) rounds[kind]?.push(...(await once(kind, `${c.label}-${kind}-${b + 1}`, true)));
  }
  return Object.fromEntries(
    kinds.map((kind) => {
      const connection = connections[kind];
      return [kind, { attempted: c.count, connected: connection.ok, failed: connection.failed, errors: connection.errors, interleaved: true, ...summarizeRounds(rounds[kind] ?? []) }];
    }),
  );
}

module.exports = { runRate, deliveryRun, broadcastRounds, fanoutRun, pairedFanoutRun };
