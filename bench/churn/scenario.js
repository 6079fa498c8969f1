'use strict';
/**
 * Scenario 7 of `npm run bench` (alone: `npm run bench -- --churn`): churn and a rolling restart,
 * measured the way AnyCable's jitter benchmark measures delivery.
 *
 * For each of: the gateway (packages/client), bare socket.io, bare socket.io with connection
 * state recovery — two instances behind a round-robin TCP balancer (bench/churn/balancer.js),
 * N clients in load-generator children (bench/churn/churn-generator.js) spread over both through
 * it, a steady publish rate mixing USER and TENANT notifications, a random share of the
 * connections cut every interval throughout, and a rolling restart: SIGTERM A, start A, SIGTERM B,
 * start B. The gateway's publishers retry with an Idempotency-Key; the bare baseline (no shared
 * adapter) publishes to every instance and counts a notification accepted when one took it.
 *
 * Options: --churn-clients=N, --churn-rate=R (notifications/s), --churn-kill-share=0.01,
 * --churn-kill-every=15000 (ms): by default 1 % of the connections dropped every 15 s;
 * --churn-kinds=ours,bare,bare-csr to run only some; --churn-publish-from=own (default: the
 * publishers in processes of their own, as a backend's are) or =clients (in the client
 * generators, beside thousands of clients, as before session 5); --churn-balancers=N (default
 * one per 6,000 clients).
 */

const path = require('node:path');
const { Client } = require('pg');
const { round, sleep, summarize } = require('../lib/util.js');

const argv = process.argv.slice(2);
const option = (/** @type {string} */ name) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const numberOption = (/** @type {string} */ name, /** @type {number} */ fallback) => {
  const value = Number(option(name));
  return Number.isFinite(value) && value > 0 ? value : fallback;
};

const PLAN = {
  quick: { clients: 2000, rate: 50, steadyMs: 10_000, betweenMs: 6000, tailMs: 6000, drainMs: 30_000 },
  full: { clients: 10_000, rate: 200, steadyMs: 30_000, betweenMs: 15_000, tailMs: 15_000, drainMs: 60_000 },
};
const ADMIN_SHARE = 0.1;
const TENANT_SHARE = 0.1;
const RETRY_BUDGET_MS = 30_000;
const KINDS = /** @type {const} */ (['ours', 'bare', 'bare-csr']);
/**
 * Clients per balancer process. A proxied connection holds two descriptors in the balancer, and
 * this machine's open-file limit is 20,000 per process (the hard limit cannot be raised here):
 * one balancer for 10,000 clients ran out of descriptors, and refused clients and publishers
 * (session 5). So the balancer tier gets a node per 6,000 clients, as a deploy's would.
 */
const CLIENTS_PER_BALANCER = 6000;

/**
 * The balancer tier: `count` balancer processes, each round-robin over both instances; clients
 * and publishers are spread over them. One `call` reaches every node and merges the answers.
 * @param {Context} ctx @param {number} count
 */
async function startBalancerTier(ctx, count) {
  /** @type {any[]} */
  const nodes = [];
  /** @type {number[]} */
  const ports = [];
  for (let i = 0; i < count; i++) {
    const name = count === 1 ? 'churn-balancer' : `churn-balancer-${i}`;
    const child = ctx.children.spawnNode({ name, script: path.join(__dirname, 'balancer.js'), env: { PATH: process.env.PATH, HOME: process.env.HOME }, cwd: ctx.results, logFile: path.join(ctx.logs, `${name}.log`), ipc: true });
    const node = ctx.children.ipcClient(child, name, () => undefined);
    ports.push(/** @type {any} */ (await node.ready).port);
    nodes.push(node);
  }
  /** @param {string} cmd @param {any} [args] */
  const call = async (cmd, args) => {
    const answers = await Promise.all(nodes.map((node) => node.call(cmd, args)));
    if (cmd === 'cut') return { cut: answers.reduce((n, a) => n + a.cut, 0) };
    if (cmd === 'counts') {
      /** @type {Record<string, number>} */
      const sum = {};
      for (const a of answers) for (const [port, n] of Object.entries(a)) sum[port] = (sum[port] ?? 0) + /** @type {number} */ (n);
      return sum;
    }
    if (cmd === 'load') return answers;
    return answers[0];
  };
  return { nodes, ports, call };
}

/**
 * @typedef {{
 *   quick: boolean, log: (m: string) => void, step: (label: string) => void, timeLeft: () => number,
 *   children: typeof import('../lib/children.js'), logs: string, results: string, root: string,
 *   db: { url: string, tenantId: string, users: { id: string }[], admins: { id: string }[] },
 *   jwtSecret: string, publisherToken: (i: number) => string, oursEnv: (port: number, extra: Record<string, string>) => Record<string, any>,
 *   generatorCount: number, addressesOf: (i: number) => string[], origin: string, namespace: string, redisUrl: string, redisPrefix: string,
 * }} Context
 */

/** GET /health/ready: its status (0: no answer within `timeoutMs`). @param {string} url @param {number} timeoutMs */
async function probe(url, timeoutMs) {
  return fetch(url, { signal: AbortSignal.timeout(timeoutMs) }).then(
    async (response) => {
      await response.arrayBuffer().catch(() => undefined);
      return response.status;
    },
    () => 0,
  );
}

/**
 * Starts a server and waits for its readiness; during a reconnect storm the probe is slow, so it
 * gets 5 s per answer and 2 minutes in all, and what it answered meanwhile is kept.
 * @param {Context} ctx @param {string} name @param {string} script @param {Record<string, any>} env @param {number} port
 */
async function startChildServer(ctx, name, script, env, port) {
  const logFile = path.join(ctx.logs, `${name}.log`);
  const child = ctx.children.spawnNode({ name, script, env, cwd: ctx.results, logFile });
  /** @type {Record<string, number>} */
  const answers = {};
  const until = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited before ready:\n${ctx.children.tail(logFile)}`);
    const status = await probe(`http://127.0.0.1:${port}/health/ready`, 5000);
    const key = status === 0 ? 'no answer' : String(status);
    answers[key] = (answers[key] ?? 0) + 1;
    if (status === 200) break;
    if (Date.now() > until) {
      await ctx.children.stopChild(child, 5000);
      throw new Error(`${name}: not ready within 120 s (readiness answered ${JSON.stringify(answers)}):\n${ctx.children.tail(logFile)}`);
    }
    await sleep(200);
  }
  return Object.assign(child, { readinessAnswers: answers });
}

/** @param {Context} ctx @param {typeof KINDS[number]} kind */
function instanceStarter(ctx, kind) {
  return async (/** @type {string} */ name, /** @type {number} */ port) => {
    if (kind === 'ours') {
      // The drain window is sockets / SHUTDOWN_RECONNECT_RATE: set, as an operator would, to about
      // what the remaining instance admits on this machine (73–165 handshakes/s measured), not
      // the default 1,000/s, which asked 1,000 clients to come back within 1 s.
      const env = ctx.oursEnv(port, { REDIS_URL: ctx.redisUrl, REDIS_KEY_PREFIX: `${ctx.redisPrefix}churn`, SHUTDOWN_TIMEOUT_MS: '10000', SHUTDOWN_RECONNECT_RATE: '100' });
      return startChildServer(ctx, name, path.join(ctx.root, 'apps/backend/dist/main.js'), env, port);
    }
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production', PORT: String(port), HOST: '127.0.0.1', CONNECTION_STATE_RECOVERY: kind === 'bare-csr' ? '1' : '0' };
    return startChildServer(ctx, name, path.join(ctx.root, 'bench/baseline-server.js'), env, port);
  };
}

/** CPU and peak RSS of whichever processes serve A and B right now, sampled all along. @param {Context} ctx */
function resourceSampler(ctx, /** @type {() => (import('node:child_process').ChildProcess | null)[]} */ current) {
  const lastCpu = new Map();
  let cpuMs = 0;
  let peakRssKB = 0;
  let sumRssKB = 0;
  let samples = 0;
  const started = Date.now();
  const sample = () => {
    let rss = 0;
    for (const child of current()) {
      if (!child?.pid || child.exitCode !== null) continue;
      try {
        const now = ctx.children.cpuMs(child.pid);
        cpuMs += now - (lastCpu.get(child.pid) ?? now);
        lastCpu.set(child.pid, now);
        rss += ctx.children.rssKB(child.pid);
      } catch {
        // exited between the check and the read
      }
    }
    peakRssKB = Math.max(peakRssKB, rss);
    sumRssKB += rss;
    samples += 1;
  };
  sample();
  const timer = setInterval(sample, 250);
  return () => {
    clearInterval(timer);
    sample();
    const seconds = (Date.now() - started) / 1000;
    return { cores: round(cpuMs / 1000 / seconds, 2), cpuMs: Math.round(cpuMs), peakRssMiB: round(peakRssKB / 1024, 1), meanRssMiB: round(sumRssKB / Math.max(1, samples) / 1024, 1) };
  };
}

/**
 * From an instance's /metrics at the end of the storm (the process started by the restart):
 * its event-loop lag, and publishes by how long they took from the service call to the emit.
 * @param {number} port
 */
async function serverSideFigures(port) {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) }).then((r) => r.text(), () => '');
  const value = (/** @type {string} */ name) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text)?.[1] ?? NaN);
  const buckets = (/** @type {string} */ name) => {
    /** @type {Record<string, number>} */
    const out = {};
    for (const m of text.matchAll(new RegExp(`^${name}_bucket\\{[^}]*le="([^"]+)"[^}]*\\} ([0-9.e+-]+)$`, 'gm'))) out[`≤${m[1]} s`] = (out[`≤${m[1]} s`] ?? 0) + Number(m[2]);
    return out;
  };
  return {
    eventLoopLagP99Ms: round(value('nodejs_eventloop_lag_p99_seconds') * 1000, 1),
    eventLoopLagMaxMs: round(value('nodejs_eventloop_lag_max_seconds') * 1000, 1),
    // Cumulative counts: service call → emitted (what a POST waits for), and the group statement alone.
    publishToEmit: buckets('notify_publish_to_emit_seconds'),
    groupStatement: buckets('notify_stream_lock_hold_seconds'),
  };
}

/**
 * How long PostgreSQL (shared with the machine's other work) takes to answer `SELECT 1` on one
 * held connection, every 500 ms: a slow publish with an idle server is then attributed or not.
 * @param {string} url
 */
function databaseProbe(url) {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  /** @type {number[]} */
  const answeredMs = [];
  let stopped = false;
  const loop = (async () => {
    await client.connect();
    while (!stopped) {
      const at = performance.now();
      await client.query('SELECT 1');
      answeredMs.push(performance.now() - at);
      await sleep(500);
    }
  })().catch(() => undefined);
  return async () => {
    stopped = true;
    await loop;
    await client.end().catch(() => undefined);
    const s = summarize(answeredMs);
    return { p50: s.p50, p99: s.p99, max: s.max, count: s.count };
  };
}

/**
 * @param {Context} ctx @param {typeof KINDS[number]} kind @param {Awaited<ReturnType<typeof startBalancerTier>>} balancer @param {any[]} generators @param {any[]} publishers
 * @param {typeof PLAN.quick} plan @param {{ share: number, everyMs: number }} kill
 */
async function runKind(ctx, kind, balancer, generators, publishers, plan, kill) {
  const start = instanceStarter(ctx, kind);
  const ports = [await ctx.children.freePort(), await ctx.children.freePort()];
  /** @type {(import('node:child_process').ChildProcess | null)[]} */
  const instances = [null, null];
  const names = ['A', 'B'];
  /** @type {Record<string, unknown>[]} */
  const phases = [];
  try {
    ctx.step(`churn ${kind}: start A and B`);
    [instances[0], instances[1]] = await Promise.all(ports.map((port, i) => start(`churn-${kind}-${names[i]}-0`, port)));
    await balancer.call('backends', { ports });
    const balancerUrls = balancer.ports.map((port) => `http://127.0.0.1:${port}`);

    const admins = Math.round(plan.clients * ADMIN_SHARE);
    const users = [
      ...ctx.db.users.slice(0, plan.clients - admins).map((u) => ({ id: u.id, tenantId: ctx.db.tenantId, admin: false })),
      ...ctx.db.admins.slice(0, admins).map((u) => ({ id: u.id, tenantId: ctx.db.tenantId, admin: true })),
    ];
    ctx.step(`churn ${kind}: open ${users.length} clients`);
    const t0 = Date.now();
    const opened = await Promise.all(
      generators.map((g, i) =>
        g.call(
          'open',
          {
            kind: kind === 'ours' ? 'ours' : 'bare',
            urls: balancerUrls,
            namespace: ctx.namespace,
            origin: ctx.origin,
            users: users.filter((_, j) => j % generators.length === i),
            secret: ctx.jwtSecret,
            tokenTtlSec: 7200,
            concurrency: 32,
            localAddresses: ctx.addressesOf(i),
            timeoutMs: 60_000,
          },
          240_000,
        ),
      ),
    );
    const live = opened.reduce((n, p) => n + p.ok, 0);
    ctx.log(`churn ${kind}: ${live}/${users.length} clients live in ${round((Date.now() - t0) / 1000, 1)} s; per instance ${JSON.stringify(await balancer.call('counts'))}`);

    const stopSampling = resourceSampler(ctx, () => instances);
    const stopProbe = databaseProbe(ctx.db.url);
    await balancer.call('load');
    const userIds = users.filter((u) => !u.admin).map((u) => u.id);
    const cap = Math.round((plan.rate * (plan.steadyMs + 2 * plan.betweenMs + plan.tailMs + 120_000)) / 1000);
    ctx.step(`churn ${kind}: publish ${plan.rate}/s, cut ${kill.share * 100} % every ${kill.everyMs / 1000} s, rolling restart`);
    const publishing = publishers.map((g, i) =>
      g.call(
        'publish',
        {
          kind: kind === 'ours' ? 'ours' : 'bare',
          url: balancerUrls[i % balancerUrls.length],
          urls: ports.map((port) => `http://127.0.0.1:${port}`),
          token: ctx.publisherToken(i),
          rate: plan.rate / publishers.length,
          durationMs: (cap / plan.rate) * 1000,
          userIds,
          tenantId: ctx.db.tenantId,
          tenantShare: TENANT_SHARE,
          keyPrefix: `churn-${kind}-${Date.now()}-g${i}`,
          retryBudgetMs: RETRY_BUDGET_MS,
          maxInFlight: 2000,
        },
        600_000,
      ),
    );
    // Awaited after the storm; if the storm fails first, a publisher's exit must not end the bench.
    for (const p of publishing) p.catch(() => undefined);
    let cuts = 0;
    const cutter = setInterval(() => {
      balancer.call('cut', { share: kill.share }).then((/** @type {{ cut: number }} */ r) => (cuts += r.cut), () => undefined);
    }, kill.everyMs);

    /** Wall-clock moments of the storm, for the timeline: what went wrong when. @type {{ at: number, mark: string }[]} */
    const marks = [{ at: Date.now(), mark: 'publishing starts' }];
    const restart = async (/** @type {number} */ i, /** @type {number} */ round_) => {
      const before = await balancer.call('counts');
      const at = Date.now();
      marks.push({ at, mark: `${names[i]} SIGTERM` });
      // As a deploy's balancer does with health checks: a stopping instance gets no new
      // connections, and a started one none until it answers ready. Routed to while it booted, a
      // restarted instance's listen queue filled with the storm and its own readiness probe went
      // unanswered for 120 s (session 6).
      await balancer.call('backends', { ports: ports.filter((_, j) => j !== i) });
      await ctx.children.stopChild(/** @type {any} */ (instances[i]), 15_000);
      const stoppedMs = Date.now() - at;
      marks.push({ at: Date.now(), mark: `${names[i]} exited` });
      const during = await balancer.call('counts');
      instances[i] = await start(`churn-${kind}-${names[i]}-${round_}`, ports[i]);
      await balancer.call('backends', { ports });
      marks.push({ at: Date.now(), mark: `${names[i]} ready` });
      const phase = { instance: names[i], stoppedInMs: stoppedMs, downToReadyMs: Date.now() - at, readinessAnswers: /** @type {any} */ (instances[i]).readinessAnswers, connectionsBefore: before, connectionsWhileDown: during };
      phases.push(phase);
      ctx.log(`churn ${kind}: ${names[i]} SIGTERM → exit ${stoppedMs} ms, → ready again ${phase.downToReadyMs} ms (readiness ${JSON.stringify(phase.readinessAnswers)}); connections before ${JSON.stringify(before)}, while down ${JSON.stringify(during)}`);
    };
    await sleep(plan.steadyMs);
    await restart(0, 1);
    await sleep(plan.betweenMs);
    await restart(1, 1);
    await sleep(plan.tailMs);
    marks.push({ at: Date.now(), mark: 'publishing stops' });
    await Promise.all(publishers.map((g) => g.call('stopPublish')));
    const published = await Promise.all(publishing);
    clearInterval(cutter);
    const resources = stopSampling();
    const databaseSelect1Ms = await stopProbe();
    const balancerLoad = await balancer.call('load');
    const serverMetrics = await Promise.all(ports.map((port) => serverSideFigures(port)));
    const accepted = published.flatMap((p) => p.accepted);
    const after = await balancer.call('counts');
    /** @type {Record<string, number>} */
    const retriedAfterStorm = {};
    if (kind === 'ours') {
      for (const r of await Promise.all(publishers.map((g) => g.call('recover', {}, 120_000)))) for (const [label, n] of Object.entries(r)) retriedAfterStorm[label] = (retriedAfterStorm[label] ?? 0) + /** @type {number} */ (n);
    }

    ctx.step(`churn ${kind}: drain`);
    // The accepted list goes to the generators once; the wait polls their counts, the report follows.
    await Promise.all(generators.map((g) => g.call('expect', { accepted }, 120_000)));
    const until = Date.now() + plan.drainMs;
    for (;;) {
      const counts = /** @type {{ expected: number, delivered: number }[]} */ (await Promise.all(generators.map((g) => g.call('progress', {}, 120_000))));
      if (counts.reduce((n, c) => n + c.delivered, 0) >= counts.reduce((n, c) => n + c.expected, 0) || Date.now() > until) break;
      await sleep(1000);
    }
    /** @type {any[]} */
    const reports = await Promise.all(generators.map((g) => g.call('report', {}, 120_000)));
    const sum = (/** @type {string} */ key) => reports.reduce((n, r) => n + r[key], 0);
    const expected = sum('expected');
    const delivered = sum('delivered');
    const replay = summarize(reports.flatMap((r) => r.replayMs));
    /** @type {Record<string, number>} */
    const errorsSeen = {};
    for (const p of published) for (const [label, n] of Object.entries(p.errorsSeen)) errorsSeen[label] = (errorsSeen[label] ?? 0) + n;
    const result = {
      clients: { attempted: users.length, live, admins },
      published: { attempted: published.reduce((n, p) => n + p.attempted, 0), skippedOverInFlightCap: published.reduce((n, p) => n + p.skipped, 0), accepted: accepted.length, retried: published.reduce((n, p) => n + p.retried, 0), errorsSeen, unrecoverable: published.reduce((n, p) => n + p.unrecoverable, 0), retriedAfterStorm },
      expectedCopies: expected,
      deliveredCopies: delivered,
      deliveredPct: expected > 0 ? round((delivered / expected) * 100, 3) : null,
      duplicatesHanded: sum('duplicates'),
      unexpected: sum('unexpected'),
      reconnects: sum('reconnects'),
      replayMs: { p50: replay.p50, p99: replay.p99, max: replay.max, count: replay.count, incomplete: sum('replaysIncomplete') },
      longestWithoutConnectionMs: Math.max(...reports.map((r) => r.longestDownMs)),
      disconnectedAtEnd: sum('downNow'),
      clientsStopped: reports.reduce((/** @type {Record<string, number>} */ acc, r) => {
        for (const [reason, n] of Object.entries(r.stopped)) acc[reason] = (acc[reason] ?? 0) + /** @type {number} */ (n);
        return acc;
      }, {}),
      downReasons: reports.reduce((/** @type {Record<string, number>} */ acc, r) => {
        for (const [reason, n] of Object.entries(r.downReasons ?? {})) acc[reason] = (acc[reason] ?? 0) + /** @type {number} */ (n);
        return acc;
      }, {}),
      // ours only: clients the gateway told `reset` (further behind than it replays), and where the copies not handed over are
      clientsReset: sum('clientsReset'),
      resetReasons: reports.reduce((/** @type {Record<string, number>} */ acc, r) => {
        for (const [reason, n] of Object.entries(r.resetReasons ?? {})) acc[reason] = (acc[reason] ?? 0) + /** @type {number} */ (n);
        return acc;
      }, {}),
      missingCopies: {
        afterReset: reports.reduce((n, r) => n + (r.missing?.afterReset ?? 0), 0),
        downAtEnd: reports.reduce((n, r) => n + (r.missing?.downAtEnd ?? 0), 0),
        other: reports.reduce((n, r) => n + (r.missing?.other ?? 0), 0),
        otherSamples: reports.flatMap((r) => r.otherMissing ?? []).slice(0, 20),
        resetClients: reports.flatMap((r) => r.resetClients ?? []).slice(0, 10),
      },
      // Each load generator over the publishing run: its CPU, its event-loop delay, how long answered POSTs took.
      generators: published.map((p) => p.self),
      publishersApart: publishers !== generators,
      clientGeneratorLoopMs: reports.map((r) => {
        const s = summarize(Object.entries(r.loopMaxBySecond ?? {}).filter(([second]) => Number(second) * 1000 >= marks[0].at && Number(second) * 1000 < marks[marks.length - 1].at).map(([, ms]) => /** @type {number} */ (ms)));
        return { p50: s.p50, p99: s.p99, max: s.max, seconds: s.count };
      }),
      timeline: timeline(marks, published, reports),
      marks,
      slowReplays: slowReplaySummary(reports),
      databaseSelect1Ms,
      balancerLoad,
      serverMetrics,
      cuts,
      restarts: phases,
      connectionsAfter: after,
      server: resources,
    };
    ctx.log(`churn ${kind}: ${churnLine(kind, result)}`);
    return result;
  } finally {
    await Promise.all(generators.map((g) => g.call('closeAll', {}, 30_000).catch(() => undefined)));
    await Promise.all(instances.filter((child) => child !== undefined && child !== null).map((child) => ctx.children.stopChild(child, 15_000)));
  }
}

/**
 * The storm cut into its phases (steady, each instance draining, down and booting, the rest): per
 * phase, the publishers' attempts by outcome and given-up publishes (by their first attempt), the
 * generators' worst loop delay, and the slow replays (> 1 s) that started in it.
 * @param {{ at: number, mark: string }[]} marks @param {any[]} published @param {any[]} reports
 */
function timeline(marks, published, reports) {
  const sorted = [...marks].sort((x, y) => x.at - y.at);
  return sorted.map((mark, i) => {
    const from = mark.at;
    const to = sorted[i + 1]?.at ?? Infinity;
    const inPhase = (/** @type {number} */ ms) => ms >= from && ms < to;
    /** @type {Record<string, number>} */
    const attempts = {};
    let gaveUp = 0;
    for (const p of published) {
      for (const [second, outcomes] of Object.entries(p.attemptsBySecond ?? {})) {
        if (!inPhase(Number(second) * 1000)) continue;
        for (const [label, n] of Object.entries(outcomes)) attempts[label] = (attempts[label] ?? 0) + /** @type {number} */ (n);
      }
      for (const [second, n] of Object.entries(p.gaveUpBySecond ?? {})) if (inPhase(Number(second) * 1000)) gaveUp += /** @type {number} */ (n);
    }
    const loopMaxMs = reports.map((r) => Math.max(0, ...Object.entries(r.loopMaxBySecond ?? {}).filter(([second]) => inPhase(Number(second) * 1000)).map(([, ms]) => /** @type {number} */ (ms))));
    const slow = reports.flatMap((r) => r.slowReplays ?? []).filter((x) => inPhase(x.at));
    // Whole seconds inside the phase: the client generators' CPU and the copies they handed over.
    const total = (/** @type {(r: any) => Record<string, number>} */ of) => reports.reduce((n, r) => n + Object.entries(of(r) ?? {}).reduce((m, [second, v]) => m + (Number(second) * 1000 >= from && (Number(second) + 1) * 1000 <= to ? v : 0), 0), 0);
    const wholeSeconds = Number.isFinite(to) ? Math.max(0, Math.floor(to / 1000) - Math.ceil(from / 1000)) : 0;
    const cpuMs = total((r) => r.cpuBySecond);
    const handed = total((r) => r.handedBySecond);
    return {
      phase: `${mark.mark} → ${sorted[i + 1]?.mark ?? 'end'}`,
      seconds: Number.isFinite(to) ? round((to - from) / 1000, 1) : null,
      attempts,
      gaveUp,
      generatorLoopMaxMs: loopMaxMs,
      slowReplays: slow.length,
      clientGeneratorCores: wholeSeconds > 0 ? round(cpuMs / 1000 / wholeSeconds, 2) : null,
      handedPerSecond: wholeSeconds > 0 ? Math.round(handed / wholeSeconds) : null,
    };
  });
}

/**
 * Replays over 1 s: how many, how long those clients had been away, how many of them the client spent partly disconnected again
 * (cut or drained mid-catch-up) or while its own generator's loop lagged at least half as long.
 * @param {any[]} reports
 */
function slowReplaySummary(reports) {
  const slow = reports.flatMap((r) => r.slowReplays ?? []);
  const downAgain = slow.filter((x) => x.downAgain).length;
  const generatorLag = slow.filter((x) => !x.downAgain && x.loopMaxMs * 2 >= x.ms).length;
  // How long those clients had been away (the longer, the more pages to catch up), and how many read the tenant stream too.
  const away = summarize(slow.map((x) => x.awayMs));
  return { count: slow.length, downAgain, generatorLoopLagged: generatorLag, neither: slow.length - downAgain - generatorLag, admins: slow.filter((x) => x.admin).length, loopMaxMs: summarize(slow.map((x) => x.loopMaxMs)), awayMs: { p50: away.p50, p99: away.p99, max: away.max } };
}

/** @param {string} kind @param {any} r */
function churnLine(kind, r) {
  return (
    `${kind}: delivered ${r.deliveredCopies}/${r.expectedCopies} = ${r.deliveredPct} %, duplicates handed ${r.duplicatesHanded}, ` +
    `replay p50 ${r.replayMs.p50} p99 ${r.replayMs.p99} max ${r.replayMs.max} ms (${r.replayMs.count} reconnects whole, ${r.replayMs.incomplete} never), ` +
    `publish errors seen ${JSON.stringify(r.published.errorsSeen)}, unrecoverable ${r.published.unrecoverable} (sent again after the storm: ${JSON.stringify(r.published.retriedAfterStorm)}), longest without a connection ${r.longestWithoutConnectionMs} ms (${r.disconnectedAtEnd} down at the end, stopped ${JSON.stringify(r.clientsStopped)}), clients told reset ${r.clientsReset} ${JSON.stringify(r.resetReasons)}, copies not handed ${JSON.stringify({ ...r.missingCopies, otherSamples: undefined, resetClients: undefined })}, ` +
    `server ${r.server.cores} cores, peak RSS ${r.server.peakRssMiB} MiB (both instances); ` +
    `slow replays ${JSON.stringify(r.slowReplays)}, ${r.publishersApart ? 'publishers apart' : 'publishers in the client generators'} ${JSON.stringify(r.generators)}, timeline ${JSON.stringify(r.timeline)}, ` +
    `client generators' loop delay (per-second max over the storm) ${JSON.stringify(r.clientGeneratorLoopMs)}, PostgreSQL SELECT 1 ${JSON.stringify(r.databaseSelect1Ms)} ms, balancer ${JSON.stringify(r.balancerLoad)}, instances ${JSON.stringify(r.serverMetrics)}, after the restarts ${JSON.stringify(r.connectionsAfter)}`
  );
}

/** @param {Context} ctx */
async function scenarioChurn(ctx) {
  const plan = { ...(ctx.quick ? PLAN.quick : PLAN.full) };
  plan.clients = Math.min(numberOption('churn-clients', plan.clients), ctx.db.users.length + ctx.db.admins.length - ctx.generatorCount);
  plan.rate = numberOption('churn-rate', plan.rate);
  const kill = { share: Math.min(1, numberOption('churn-kill-share', 0.01)), everyMs: numberOption('churn-kill-every', 15_000) };
  const balancer = await startBalancerTier(ctx, numberOption('churn-balancers', Math.max(1, Math.ceil(plan.clients / CLIENTS_PER_BALANCER))));
  const generators = [];
  for (let i = 0; i < ctx.generatorCount; i++) {
    const name = `churn-gen-${i}`;
    const child = ctx.children.spawnNode({ name, script: path.join(__dirname, 'churn-generator.js'), args: [name], nodeArgs: ['--max-old-space-size=4096'], env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production' }, cwd: ctx.root, logFile: path.join(ctx.logs, `${name}.log`), ipc: true });
    const client = ctx.children.ipcClient(child, name, () => undefined);
    await client.ready;
    generators.push(client);
  }
  // A backend's publisher does not share its event loop with thousands of browsers: by default
  // the publishers get processes of their own (same script, no clients), so a late 201 is the
  // gateway's and not a client generator's lag (session 4's full run: 15 s loop delay p99 there).
  const publishFrom = option('churn-publish-from') === 'clients' ? 'clients' : 'own';
  const publishers = [];
  if (publishFrom === 'own') {
    for (let i = 0; i < ctx.generatorCount; i++) {
      const name = `churn-pub-${i}`;
      const child = ctx.children.spawnNode({ name, script: path.join(__dirname, 'churn-generator.js'), args: [name], env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production' }, cwd: ctx.root, logFile: path.join(ctx.logs, `${name}.log`), ipc: true });
      const client = ctx.children.ipcClient(child, name, () => undefined);
      await client.ready;
      publishers.push(client);
    }
  } else publishers.push(...generators);
  /** @type {Record<string, any>} */
  const out = { plan, kill, adminShare: ADMIN_SHARE, tenantShare: TENANT_SHARE, publishFrom, balancers: balancer.nodes.length };
  try {
    const only = option('churn-kinds')?.split(',');
    for (const kind of KINDS.filter((k) => !only || only.includes(k))) {
      if (ctx.timeLeft() < 60_000) {
        out[kind] = { skipped: 'not enough time left before the deadline' };
        continue;
      }
      try {
        out[kind] = await runKind(ctx, kind, balancer, generators, publishers, plan, kill);
      } catch (error) {
        ctx.log(`churn ${kind} failed: ${error instanceof Error ? error.stack : String(error)}`);
        out[kind] = { error: error instanceof Error ? error.message : String(error) };
      }
    }
  } finally {
    await Promise.all([...new Set([...generators, ...publishers]), ...balancer.nodes].map((g) => g.call('exit', {}, 5000).catch(() => undefined)));
  }
  return out;
}

/** Console lines for the end of the run. @param {any} churn */
function churnLines(churn) {
  if (!churn || churn.error || churn.skipped) return churn ? [`churn: ${churn.error ?? churn.skipped}`] : [];
  return KINDS.map((kind) => (churn[kind]?.deliveredPct !== undefined ? `churn ${churnLine(kind, churn[kind])}` : `churn ${kind}: ${churn[kind]?.error ?? churn[kind]?.skipped ?? 'not run'}`));
}

module.exports = { scenarioChurn, churnLines };
