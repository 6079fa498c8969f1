'use strict';
/** Turns a results object into the console table, the target checks and docs/BENCHMARKS.md. */

const { readFileSync, existsSync } = require('node:fs');
const path = require('node:path');

/** @param {number|null|undefined} ours @param {number|null|undefined} bare */
function ratio(ours, bare) {
  if (ours == null || bare == null || !Number.isFinite(ours) || !Number.isFinite(bare) || bare === 0) return '–';
  return `${(ours / bare).toFixed(2)}×`;
}

/** @param {unknown} v */
const show = (v) => (v === null || v === undefined ? '–' : String(v));

/** @param {any} l latency summary */
const lat = (l) => (l && l.count ? `${l.p50} / ${l.p95} / ${l.p99} / ${l.max}` : '–');

/** @param {any} side */
function whyNot(side) {
  if (!side) return 'not run';
  if (side.skipped) return `skipped: ${side.skipped}`;
  if (side.error) return `error: ${side.error}`;
  return null;
}

/**
 * Rows of [scenario, metric, ours, bare, ratio].
 * @param {any} results
 * @returns {string[][]}
 */
function rows(results) {
  const s = results.scenarios ?? {};
  /** @type {string[][]} */
  const out = [];
  if (Array.isArray(s.connections)) {
    for (const row of s.connections) {
      const o = row.ours ?? {};
      const b = row.bare ?? {};
      const label = `1 connections N=${row.n.toLocaleString('en-US')}`;
      out.push([label, 'handshakes/s', whyNot(o) ?? show(o.ratePerSec), whyNot(b) ?? show(b.ratePerSec), ratio(o.ratePerSec, b.ratePerSec)]);
      const failures = (/** @type {any} */ x) => (x.ok === undefined ? '–' : `${x.failed + (x.notAttemptedBeforeDeadline ?? 0)} (held ${x.heldAfterIdle})`);
      out.push(['', 'server CPU ms/handshake', show(o.serverCpuMsPerHandshake), show(b.serverCpuMsPerHandshake), ratio(o.serverCpuMsPerHandshake, b.serverCpuMsPerHandshake)]);
      out.push(['', 'client CPU ms/handshake', show(o.clientCpuMsPerHandshake), show(b.clientCpuMsPerHandshake), '']);
      out.push(['', 'failed (held after idle)', failures(o), failures(b), '']);
      out.push(['', 'server RSS KiB/conn, after GC', show(o.rssPerConnectionKB), show(b.rssPerConnectionKB), ratio(o.rssPerConnectionKB, b.rssPerConnectionKB)]);
      out.push(['', 'JS heap KiB/conn, after GC', show(o.heapPerConnectionKB), show(b.heapPerConnectionKB), ratio(o.heapPerConnectionKB, b.heapPerConnectionKB)]);
    }
  } else if (s.connections) {
    out.push(['1 connections', '', whyNot(s.connections) ?? '?', '', '']);
  }
  const deliveryRows = (/** @type {string} */ name, /** @type {any} */ ours, /** @type {any} */ bare) => {
    if (!ours || whyNot(ours)) {
      out.push([name, '', whyNot(ours) ?? 'not run', '', '']);
      return;
    }
    for (const r of ours.rates ?? []) {
      const br = (bare?.rates ?? []).find((/** @type {any} */ x) => x.rate === r.rate);
      const label = `${name} ${r.rate}/s`;
      if (r.skipped) {
        out.push([label, '', `skipped: ${r.skipped}`, '', '']);
        continue;
      }
      out.push([label, 'latency ms p50/p95/p99/max', lat(r.latencyMs), br ? lat(br.latencyMs) : '–', `p50 ${ratio(r.latencyMs.p50, br?.latencyMs?.p50)}, p99 ${ratio(r.latencyMs.p99, br?.latencyMs?.p99)}`]);
      const loss = (/** @type {any} */ x) =>
        x ? `${x.lost}/${x.published} lost${x.publishFailed ? `, ${x.publishFailed} POST failed` : ''}${x.skippedOverInFlightCap ? `, ${x.skippedOverInFlightCap} not sent` : ''}` : '–';
      out.push(['', 'loss (of 201s)', loss(r), loss(br), '']);
      const cpu = (/** @type {any} */ x) => (x?.serverCpuMsPerNotification ? x.serverCpuMsPerNotification.join(' + ') : '–');
      const sum = (/** @type {any} */ x) => (x?.serverCpuMsPerNotification ? x.serverCpuMsPerNotification.reduce((/** @type {number} */ a, /** @type {number} */ b) => a + b, 0) : null);
      out.push(['', 'server CPU ms/notification', cpu(r), cpu(br), ratio(sum(r), sum(br))]);
      out.push(['', 'sustained 201/s', show(r.sustainedRate), show(br?.sustainedRate), ratio(r.sustainedRate, br?.sustainedRate)]);
    }
  };
  if (s.delivery) deliveryRows('2 user delivery', s.delivery.ours, s.delivery.bare);
  const fanoutRows = (/** @type {string} */ name, /** @type {any} */ f) => {
    if (!f || whyNot(f)) {
      out.push([name, '', whyNot(f) ?? 'not run', '', '']);
      return;
    }
    const o = f.ours;
    const b = f.bare;
    const count = o?.connected ?? b?.connected;
    out.push([`${name} (${show(o?.connected)} / ${show(b?.connected)} open)`, 'last one, ms (median of rounds)', whyNot(o) ?? show(o.lastMsMedian), whyNot(b) ?? show(b?.lastMsMedian), ratio(o?.lastMsMedian, b?.lastMsMedian)]);
    out.push(['', 'worst round, ms', show(o?.lastMsWorst), show(b?.lastMsWorst), ratio(o?.lastMsWorst, b?.lastMsWorst)]);
    out.push(['', 'median connection, ms', show(o?.p50MsMedian), show(b?.p50MsMedian), ratio(o?.p50MsMedian, b?.p50MsMedian)]);
    out.push(['', 'server CPU ms/broadcast', show(o?.serverCpuMsPerBroadcastMedian), show(b?.serverCpuMsPerBroadcastMedian), ratio(o?.serverCpuMsPerBroadcastMedian, b?.serverCpuMsPerBroadcastMedian)]);
    if ((o?.missingTotal ?? 0) + (b?.missingTotal ?? 0) > 0) out.push(['', 'missing deliveries', show(o?.missingTotal), show(b?.missingTotal), '']);
    void count;
  };
  if (s.fanout) fanoutRows('3 tenant fan-out', s.fanout);
  if (s.redis) deliveryRows('4 via Redis, A→B', s.redis.ours, s.delivery?.bare);
  if (s.sse) fanoutRows('5 SSE fan-out', s.sse);
  return out;
}

/** @param {string[][]} table @param {string[]} header */
function textTable(table, header) {
  const all = [header, ...table];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (/** @type {string[]} */ r) => r.map((c, i) => (c ?? '').padEnd(widths[i])).join(' | ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-+-'), ...table.map(line)].join('\n');
}

const HEADER = ['scenario', 'metric', 'ours', 'bare socket.io', 'ours / bare'];

/** @param {any} results */
function consoleTable(results) {
  const checks = (results.targets ?? []).map((/** @type {any} */ t) => [t.target, t.measured, t.met === null ? 'n/a' : t.met ? 'met' : 'MISSED']);
  return `${textTable(rows(results), HEADER)}\n\n${textTable(checks, ['target', 'measured', ''])}`;
}

/** @param {string[][]} table @param {string[]} header */
function mdTable(table, header) {
  const esc = (/** @type {string} */ c) => (c ?? '').replace(/\|/g, '\\|');
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...table.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

/**
 * The issue's targets, checked against the figures.
 * @param {any} results
 */
function targetChecks(results) {
  const s = results.scenarios ?? {};
  const checks = [];
  /** @type {any[]} */
  const conn = Array.isArray(s.connections) ? s.connections : [];
  const ours = conn.filter((r) => r.ours && r.ours.ok !== undefined);
  const fullyHeld = ours.filter((r) => r.ours.heldAfterIdle >= r.n);
  const best = fullyHeld.length ? Math.max(...fullyHeld.map((r) => r.n)) : 0;
  const largest = ours.length ? ours[ours.length - 1] : null;
  if (ours.length) {
    checks.push({
      target: '≥ 10,000 concurrent authenticated connections on one instance',
      measured: ours.map((r) => `${r.ours.heldAfterIdle.toLocaleString('en-US')}/${r.n.toLocaleString('en-US')}`).join(', ') + ' held after idle',
      met: best >= 10_000 ? true : ours.some((r) => r.n >= 10_000) ? false : null,
    });
    const attempted20k = ours.find((r) => r.n >= 20_000);
    checks.push({
      target: '20,000 attempted',
      measured: attempted20k ? `${attempted20k.ours.ok.toLocaleString('en-US')} of ${attempted20k.n.toLocaleString('en-US')} connected` : 'not attempted in this mode',
      met: attempted20k ? true : null,
    });
    const ref = ours.find((r) => r.n === 10_000) ?? largest;
    if (ref) {
      // RSS growth can hide in heap pages the boot already committed; the JS heap figure cannot.
      // The larger of the two is what a connection costs.
      const kib = Math.max(ref.ours.rssPerConnectionKB ?? 0, ref.ours.heapPerConnectionKB ?? 0);
      const kb = ref.ours.rssPerConnectionKB == null ? null : kib * 1.024;
      checks.push({
        target: '≤ 30 KB server memory per connection over idle',
        measured: `${(ref.ours.rssPerConnectionKB * 1.024).toFixed(1)} KB RSS, ${(ref.ours.heapPerConnectionKB * 1.024).toFixed(1)} KB JS heap, after GC at N=${ref.n.toLocaleString('en-US')}`,
        met: kb == null ? null : kb <= 30,
      });
      const b = ref.bare;
      const oursKiB = kib;
      const bareKiB = b ? Math.max(b.rssPerConnectionKB ?? 0, b.heapPerConnectionKB ?? 0) : null;
      checks.push({
        target: 'memory per connection ≤ 1.3× bare',
        measured: `${ratio(oursKiB, bareKiB)} (larger of RSS and JS heap: ${oursKiB} vs ${bareKiB} KiB; JS heap alone ${ratio(ref.ours.heapPerConnectionKB, b?.heapPerConnectionKB)}) at N=${ref.n.toLocaleString('en-US')}`,
        met: bareKiB ? oursKiB / bareKiB <= 1.3 : null,
      });
    }
    const rates = ours.filter((r) => r.n >= 5000);
    const rateRows = rates.length ? rates : ours;
    const minRate = Math.min(...rateRows.map((r) => r.ours.ratePerSec));
    checks.push({ target: 'handshakes ≥ 500/s (auth + DB lookup + room joins)', measured: rateRows.map((r) => `${r.ours.ratePerSec}/s at N=${r.n.toLocaleString('en-US')}`).join(', '), met: minRate >= 500 });
  }
  const delivery = s.delivery?.ours?.rates ?? [];
  const d1000 = delivery.find((/** @type {any} */ r) => r.rate === 1000 && !r.skipped);
  if (d1000) {
    checks.push({ target: 'user-targeted delivery p99 ≤ 50 ms at 1,000/s', measured: `p99 ${d1000.latencyMs.p99} ms (p50 ${d1000.latencyMs.p50})`, met: d1000.latencyMs.p99 !== null && d1000.latencyMs.p99 <= 50 });
    checks.push({
      target: 'zero loss at 1,000/s (every notification offered is accepted and delivered)',
      measured: `${d1000.lost} lost of ${d1000.published} published; ${d1000.publishFailed} POSTs failed, ${d1000.skippedOverInFlightCap} not sent`,
      met: d1000.lost === 0 && d1000.publishFailed === 0 && d1000.skippedOverInFlightCap === 0,
    });
    const b1000 = (s.delivery?.bare?.rates ?? []).find((/** @type {any} */ r) => r.rate === 1000 && !r.skipped);
    if (b1000) {
      checks.push({
        target: 'latency ≤ 1.5× bare (p99 at 1,000/s)',
        measured: `${ratio(d1000.latencyMs.p99, b1000.latencyMs.p99)} (p50 ${ratio(d1000.latencyMs.p50, b1000.latencyMs.p50)})`,
        met: b1000.latencyMs.p99 ? d1000.latencyMs.p99 / b1000.latencyMs.p99 <= 1.5 : null,
      });
    }
  }
  const lowest = delivery.find((/** @type {any} */ r) => !r.skipped && r.latencyMs?.count);
  const bareLowest = lowest && (s.delivery?.bare?.rates ?? []).find((/** @type {any} */ r) => r.rate === lowest.rate && !r.skipped);
  if (lowest && bareLowest && lowest !== d1000) {
    checks.push({
      target: `latency ≤ 1.5× bare (p99 at ${lowest.rate}/s, below saturation)`,
      measured: `${ratio(lowest.latencyMs.p99, bareLowest.latencyMs.p99)} (p50 ${ratio(lowest.latencyMs.p50, bareLowest.latencyMs.p50)}): ${lowest.latencyMs.p99} vs ${bareLowest.latencyMs.p99} ms`,
      met: bareLowest.latencyMs.p99 ? lowest.latencyMs.p99 / bareLowest.latencyMs.p99 <= 1.5 : null,
    });
  }
  const fan = s.fanout?.ours;
  if (fan && fan.lastMsMedian != null && s.fanout?.bare?.lastMsMedian != null) {
    checks.push({
      target: 'broadcast latency ≤ 1.5× bare (last socket, median of rounds)',
      measured: `${ratio(fan.lastMsMedian, s.fanout.bare.lastMsMedian)}: ${fan.lastMsMedian} vs ${s.fanout.bare.lastMsMedian} ms`,
      met: fan.lastMsMedian / s.fanout.bare.lastMsMedian <= 1.5,
    });
  }
  if (fan && fan.lastMsMedian != null) {
    checks.push({
      target: `one broadcast to 10,000 sockets, last one within 250 ms`,
      measured: `${fan.lastMsMedian} ms median, ${fan.lastMsWorst} ms worst, to ${fan.connected.toLocaleString('en-US')} sockets`,
      met: fan.connected >= 10_000 ? fan.lastMsMedian <= 250 : null,
    });
  }
  return checks;
}

/** @param {any} summary */
function profileTables(summary) {
  const cats = summary.topCategories.slice(0, 10).map((/** @type {any} */ c) => [c.category, `${c.pctOfBusy}%`, String(c.selfMs)]);
  const native = (summary.nativeByCaller ?? []).slice(0, 6).map((/** @type {any} */ c) => [c.caller, `${c.pctOfBusy}%`]);
  const fns = summary.topFunctions.slice(0, 12).map((/** @type {any} */ f) => [f.function, f.where, `${f.pctOfBusy}%`]);
  return (
    `Busy ${summary.busyMs} ms of ${summary.windowMs} ms (${summary.cpuBusyPct}% of one core).\n\n${mdTable(cats, ['package / file', 'self time, % of busy', 'self ms'])}\n\n` +
    (native.length ? `Native frames (system calls) by the package that made them:\n\n${mdTable(native, ['native frame ← caller', '% of busy'])}\n\n` : '') +
    mdTable(fns, ['function', 'where', '% of busy'])
  );
}

/**
 * @param {any} results @param {string} root
 */
function markdown(results, root) {
  const m = results.meta;
  const v = m.versions;
  const analysisFile = path.join(root, 'bench', 'ANALYSIS.md');
  const analysis = existsSync(analysisFile) ? readFileSync(analysisFile, 'utf8').trim() : '_bench/ANALYSIS.md is missing._';
  const checks = mdTable(
    (results.targets ?? []).map((/** @type {any} */ t) => [t.target, t.measured, t.met === null ? 'n/a' : t.met ? '✅ met' : '❌ missed']),
    ['target', 'measured', ''],
  );
  const profile = results.profile;
  let profileSection = '_Not profiled in this run._';
  if (profile && profile.windows) {
    profileSection =
      `The server ran one extra time under \`node --cpu-prof\` (profile: \`${profile.file}\`, git-ignored) with ` +
      `${profile.workload.sockets} ADMIN sockets (${profile.workload.handshakesPerSec} handshakes/s), user-targeted delivery at ` +
      `${profile.workload.deliveryRate}/s (p99 ${profile.workload.deliveryP99Ms} ms) and ${profile.workload.broadcasts} tenant broadcasts. ` +
      `Self time is aggregated by \`bench/profile-summary.js\` per phase (time windows on the profile's monotonic clock${profile.windowsOnProfileClock ? '' : ' — **windows did not line up; treat with care**'}).\n\n` +
      Object.entries(profile.windows)
        .map(([name, summary]) => `#### ${name}\n\n${profileTables(summary)}`)
        .join('\n\n');
  } else if (profile && (profile.error || profile.skipped)) {
    profileSection = `_Profile ${profile.error ? `failed: ${profile.error}` : `skipped: ${profile.skipped}`}._`;
  }
  const c = m.config;
  return `# Benchmarks

Generated by \`npm run bench\` (\`bench/run.js\`) on ${m.startedAt.slice(0, 10)}, ${m.mode} mode, ${Math.round(m.durationSec / 60)} min.
Do not edit by hand: the figures come from \`bench/results/latest.json\`, the text around them from
\`bench/lib/report.js\` and \`bench/ANALYSIS.md\`. The two tables below come from that run alone; runs taken
since (of one scenario, or \`--quick\`) are in the sections under "What limits each figure", each with
its date, code and load average.

## Against the targets

${checks}

## Figures

"ours" is the gateway (\`apps/backend/dist/main.js\`, \`NODE_ENV=production\`, PostgreSQL, auth, limits, logs at
\`warn\`, metrics); "bare" is \`bench/baseline-server.js\`, a plain socket.io ${v['socket.io']} server with the same engine
options and room layout, no auth, no database, no Redis, started by the same run. Latencies are milliseconds
from the moment the publisher issues the POST to the moment the receiving client handles the event, so
they include the HTTP request, (for ours) authentication, validation and the database commit, and the
client's own parsing. Ratios are ours / bare: above 1 is slower or bigger, except for handshakes/s where
below 1 is slower.

${mdTable(rows(results), HEADER)}

Scenario 4 has no bare counterpart with Redis; its ratio is against the bare single process of scenario 2
at the same rate.

## What limits each figure

${analysis}

## Profile

${profileSection}

## Machine

| | |
|---|---|
| CPU | ${m.machine.nproc} cores (\`nproc\`), ${m.machine.cpuModel} |
| memory | ${m.machine.memoryGiB} GiB |
| OS | ${m.machine.os}, kernel ${m.machine.kernel} |
| Node.js | ${m.machine.node} |
| PostgreSQL / Redis | ${show(v.postgres)} / ${show(v.redis)} (both on 127.0.0.1, shared with the rest of the machine) |
| open files per process | soft ${m.machine.limits.openFilesSoft}, hard ${m.machine.limits.openFilesHard} (raising the hard limit needs CAP_SYS_RESOURCE, which this machine does not grant) |
| ephemeral ports | ${m.machine.limits.ephemeralPorts}; connections spread over ${m.sourceAddresses.length} source addresses ${m.sourceAddresses[0]}–${m.sourceAddresses[m.sourceAddresses.length - 1]} |
| load average (1/5/15 min) | ${m.machine.loadAverageAtStart.join(' / ')} at start, ${(m.loadAverageAtEnd ?? []).join(' / ')} at the end |

Everything — servers, ${m.generators} load-generator processes, PostgreSQL, Redis — shares these ${m.machine.nproc} cores, so
every figure here is a lower bound of what the server alone would do.

Package versions: ${Object.entries(v)
    .filter(([name]) => name !== 'postgres' && name !== 'redis')
    .map(([name, version]) => `${name} ${show(version)}`)
    .join(', ')}.

## How to reproduce

Needs PostgreSQL on 127.0.0.1:5432 (user \`postgres\`, trust; override with \`BENCH_PG_ADMIN_URL\`) and, for
scenario 4, Redis on 127.0.0.1:6379 (\`BENCH_REDIS_URL\`). Nothing leaves loopback.

\`\`\`sh
npm run bench                    # everything (${c.mode === 'full' ? `about ${Math.max(1, Math.round(m.durationSec / 60))} minutes` : 'several minutes'}); rewrites this file
npm run bench -- --quick         # small N and short runs, under two minutes; does not touch this file
npm run bench -- --only=2,3      # some scenarios (does not touch this file)
npm run bench -- --publish       # scenario 6 only: publishing beside the floor server (add --quick for short runs)
npm run bench -- --store         # store growth only: own database filled to 1M then 10M (--quick: 1M then 3M), EXPLAIN per query
npm run bench -- --no-profile    # skip the --cpu-prof pass
node bench/profile-summary.js bench/results/profiles/<file>.cpuprofile [--from µs --to µs]
node bench/lib/report.js         # re-render this file from bench/results/latest.json (e.g. after editing bench/ANALYSIS.md)
node bench/run.js --help         # every flag
npx tsc -p bench                 # type-check the harness (plain CommonJS with JSDoc types; part of npm run typecheck)
\`\`\`

\`npm run bench\` builds first (\`npm run build\`), then runs \`node bench/run.js\`.

The run creates a database \`ngw_bench_<timestamp>\` (migrated with the project's migrator, ${c.connections ? 'users inserted with plain SQL' : ''}),
drops it at the end (also on Ctrl-C or failure), starts every server and generator as a child process through
\`bash -c 'ulimit -n …; exec node …'\` and kills them on the way out. Output: progress lines, a table,
\`bench/results/latest.json\` (git-ignored), logs in \`bench/results/logs/\`.

## Method

- **Servers**: ours with \`NODE_ENV=production\`, a random 48-byte \`JWT_SECRET\`, \`FRONTEND_URL=http://bench.local\`,
  \`LOG_LEVEL=warn\`, and the abuse caps raised (\`MAX_WEBSOCKET_CONNECTIONS\`, \`MAX_CONNECTIONS_PER_USER\`,
  \`MAX_CONNECTIONS_PER_IP\`, \`CONNECT_RATE_PER_IP\`, \`WS_RATE_LIMIT_POINTS\`) so the harness measures throughput.
  A fresh server for every measurement (every N of scenario 1, every scenario).
- **Clients**: ${m.generators} generator processes (\`bench/generator.js\`), socket.io-client with \`transports: ['websocket']\`,
  one client per user, tokens HS256 with \`sub\` = user id, \`Origin: http://bench.local\`, \`localAddress\` rotating over
  ${m.sourceAddresses.length} loopback addresses (engine.io-client hands \`localAddress\` to \`ws\`).
- **1 connections**: N = ${c.connections.sizes.join(', ')} USER sockets, ${c.connections.concurrencyPerGenerator} handshakes in flight per generator; rate =
  connected / (last connect − first attempt); server and client CPU from \`/proc/<pid>/stat\` / \`process.cpuUsage()\`.
  Memory: full GCs forced through the inspector (\`--inspect=127.0.0.1:0\`, these servers only) until RSS
  (\`/proc/<pid>/status\`) settles, before connecting and again after ${c.connections.idleMs / 1000} s idle; the RSS delta and the V8 heap +
  external delta, each divided by the connections held.
- **2 user delivery**: ${c.delivery.receivers} USER receivers; every generator POSTs \`/notifications\` (scope USER, random connected
  target, \`data\` = {key, send time}) as an ADMIN over a keep-alive agent, open-loop at its share of ${c.delivery.rates.join(', ')}/s for
  ${c.delivery.durationMs / 1000} s each after a ${c.delivery.warmupMs / 1000} s warm-up; loss = 201-answered notifications never received within ${c.delivery.drainMs / 1000} s.
  The bare server gets the same POST shape on \`/emit\`.
- **3 tenant fan-out**: ${c.fanout.sockets} ADMIN sockets of one tenant; ${c.fanout.broadcasts} TENANT broadcasts one after another; "last one" = when the
  last socket handled it, from the POST.
- **4 via Redis**: two instances with \`REDIS_URL\` and a unique \`REDIS_KEY_PREFIX\`; receivers on B, POSTs to A; ${c.redis.rates.join(', ')}/s.
- **5 SSE**: ${c.sse.streams} \`GET /notifications/stream\` (Bearer header) of ADMIN users, ${c.sse.broadcasts} TENANT broadcasts; bare: an SSE endpoint in the
  same baseline process. Both servers hold their streams at once and their broadcasts alternate (ours first in odd rounds,
  bare in even ones), so each pair meets the same machine.
- **6 publish** (\`bench/publish/\`): beside a floor server (\`bench/publish/floor-server.js\`: no auth, a plain
  \`INSERT … RETURNING\` on a pool of 20, then the emit) started in the same run: single REST publishes open-loop at
  1,000, 2,000 and 5,000/s to sockets of 200 users (the floor and ours alternating per rate); HTTP batches of 500
  (\`POST /notifications/batch\` vs the floor's \`/emit-batch\`, 4 in a closed loop); in-process
  \`NotificationService.sendMany\` of 500 vs one \`unnest\` INSERT of 500 (4 in a closed loop); the stream-lock hold
  per group and per notification from \`notify_stream_lock_hold_seconds\`. Ratio = ours / floor.
`;
}

module.exports = { consoleTable, markdown, targetChecks, rows };

// `node bench/lib/report.js [results.json]`: re-renders the table and docs/BENCHMARKS.md from a
// results file (e.g. after editing bench/ANALYSIS.md) without running the bench again.
if (require.main === module) {
  const root = path.resolve(__dirname, '..', '..');
  const file = process.argv[2] ?? path.join(root, 'bench', 'results', 'latest.json');
  const results = JSON.parse(readFileSync(file, 'utf8'));
  results.targets = targetChecks(results);
  // Re-summarise the profile when its file is still there (the summary code may have changed).
  const profile = results.profile;
  if (profile?.file && profile.windowsUs && existsSync(path.join(root, profile.file))) {
    const { summarizeFile } = require('../profile-summary.js');
    for (const [name, [from, to]] of Object.entries(profile.windowsUs)) {
      profile.windows[name] = summarizeFile(path.join(root, profile.file), { from: /** @type {number} */ (from), to: /** @type {number} */ (to), top: 20 });
    }
  }
  process.stdout.write(`${consoleTable(results)}\n`);
  if (results.meta.mode === 'full') {
    require('node:fs').writeFileSync(path.join(root, 'docs', 'BENCHMARKS.md'), markdown(results, root));
    process.stdout.write('wrote docs/BENCHMARKS.md\n');
  } else {
    process.stdout.write(`docs/BENCHMARKS.md left as is (${results.meta.mode} results)\n`);
  }
}
