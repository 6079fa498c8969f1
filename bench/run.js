'use strict';
/**
 * `npm run bench [-- --quick] [-- --only=1,3] [-- --publish] [-- --churn] [-- --store] [-- --no-profile] [-- --generators=N]`
 * (`--help` lists every flag).
 *
 * Load benchmark of the notification gateway against a bare socket.io server, on this machine,
 * over loopback only. Creates its own database (dropped at the end), starts the servers and
 * the load generators as child processes, runs the scenarios docs/BENCHMARKS.md describes, prints a table and
 * writes bench/results/latest.json (+ docs/BENCHMARKS.md for a full run).
 *
 * Everything is bounded: every connection phase, publishing run and wait has a count and a
 * deadline, the whole run has a hard deadline, and every child is killed on the way out.
 *
 * The parts: lib/config.js (flags and sizes), lib/servers.js (the servers under test),
 * lib/fleet.js (load generators and users), lib/measure.js (the measurements), scenarios/
 * (one file per scenario, publish/ for scenario 6), lib/report.js (table, targets, docs).
 */
const path = require('node:path');
const { mkdirSync, writeFileSync } = require('node:fs');
const children = require('./lib/children.js');
const { createBenchDatabase } = require('./lib/db.js');
const { machineInfo, packageVersions, versionsOfServices } = require('./lib/environment.js');
const { round } = require('./lib/util.js');
const report = require('./lib/report.js');
const { scenarioPublish, publishLines } = require('./publish/scenario.js');
const { scenarioChurn, churnLines } = require('./churn/scenario.js');
const { ADMIN_COUNT, ADMIN_DB_URL, CONFIG, GENERATORS, PUBLISH_PHASES, JWT_SECRET, LOGS, NAMESPACE, ONLY, ORIGIN, PROFILE, QUICK, REDIS_PREFIX, REDIS_URL, RESULTS, ROOT, STAMP, USAGE, USER_COUNT, flag, option } = require('./lib/config.js');
const { addressesOf, closeAllConnections, connectAll, publisherToken, startGenerators, userList } = require('./lib/fleet.js');
const { cleanup, installLifecycle, pruneLogs, bench, timeLeft } = require('./lib/lifecycle.js');
const { runRate } = require('./lib/measure.js');
const { log, started, startProgress, step } = require('./lib/output.js');
const { oursEnv, startOurs, stopServer } = require('./lib/servers.js');
const { scenarioConnections } = require('./scenarios/connections.js');
const { scenarioDelivery, scenarioRedis } = require('./scenarios/delivery.js');
const { scenarioFanout, scenarioSse } = require('./scenarios/fanout.js');
const { profilePhase } = require('./scenarios/profile.js');

if (flag('help')) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const stopLifecycle = installLifecycle();
const stopProgress = startProgress();

async function main() {
  if (flag('store')) {
    // Its own database and sizes (bench/store/scenario.js): no servers, generators or deadline here.
    stopLifecycle();
    await require('./store/scenario.js').runStoreBench({ quick: QUICK, root: ROOT, adminUrl: ADMIN_DB_URL, log, sizes: option('store-sizes')?.split(',').map(Number) });
    return;
  }
  mkdirSync(LOGS, { recursive: true });
  pruneLogs();
  const meta = {
    mode: CONFIG.mode,
    startedAt: new Date().toISOString(),
    machine: machineInfo(ROOT),
    versions: { ...packageVersions(ROOT), ...(await versionsOfServices(ROOT, ADMIN_DB_URL, REDIS_URL)) },
    generators: GENERATORS,
    sourceAddresses: Array.from({ length: GENERATORS }, (_, i) => addressesOf(i)).flat(),
    config: CONFIG,
  };
  log(`bench (${CONFIG.mode}): ${meta.machine.nproc} cores, ${meta.machine.memoryGiB} GiB, node ${meta.machine.node}, open files ${meta.machine.limits.openFilesSoft}/${meta.machine.limits.openFilesHard}, load ${meta.machine.loadAverageAtStart.join(' ')}`);
  log(`logs in ${path.relative(ROOT, LOGS)}`);

  const db = await createBenchDatabase({ adminUrl: ADMIN_DB_URL, repoRoot: ROOT, users: USER_COUNT, admins: ADMIN_COUNT });
  bench.db = db;
  bench.database = db;
  log(`database ${db.name}: ${db.users.length} USER and ${db.admins.length} ADMIN users in tenant bench`);
  bench.generators = await startGenerators();
  log(`${bench.generators.length} load generators up, source addresses ${meta.sourceAddresses[0]}…${meta.sourceAddresses[meta.sourceAddresses.length - 1]}`);

  /** @type {Record<string, any>} */
  const scenarios = {};
  const plan = /** @type {const} */ ([
    [1, 'connections', 'scenario 1: concurrent authenticated connections', scenarioConnections],
    [2, 'delivery', 'scenario 2: user-targeted delivery, REST publish → socket receive', scenarioDelivery],
    [3, 'fanout', 'scenario 3: tenant fan-out', scenarioFanout],
    [4, 'redis', 'scenario 4: delivery across two instances through Redis', scenarioRedis],
    [5, 'sse', 'scenario 5: SSE fan-out', scenarioSse],
    [6, 'publish', 'scenario 6: publishing beside a floor server (REST rates, batches, in-process sendMany)', () =>
      scenarioPublish({ quick: QUICK, phases: PUBLISH_PHASES, log, step, timeLeft, children, logs: LOGS, results: RESULTS, root: ROOT, db, jwtSecret: JWT_SECRET, publisherToken, startOurs, stopServer, connectAll, closeAllConnections, runRate, userList, redisEnv: { REDIS_URL, REDIS_KEY_PREFIX: `${REDIS_PREFIX}two` } })],
    [7, 'churn', 'scenario 7: churn and a rolling restart of two instances (ours, bare socket.io, bare with connection state recovery)', () =>
      scenarioChurn({ quick: QUICK, log, step, timeLeft, children, logs: LOGS, results: RESULTS, root: ROOT, db, jwtSecret: JWT_SECRET, publisherToken, oursEnv, generatorCount: GENERATORS, addressesOf, origin: ORIGIN, namespace: NAMESPACE, redisUrl: REDIS_URL, redisPrefix: REDIS_PREFIX })],
  ]);
  for (const [number, key, title, run] of plan) {
    if (bench.aborting) break;
    if (!ONLY.includes(number)) continue;
    if (timeLeft() < 15_000) {
      scenarios[key] = { skipped: 'not enough time left before the deadline' };
      continue;
    }
    log(`— ${title}`);
    try {
      scenarios[key] = await run();
    } catch (error) {
      log(`${title} failed: ${error instanceof Error ? error.stack : String(error)}`);
      scenarios[key] = { error: error instanceof Error ? error.message : String(error) };
      await closeAllConnections().catch(() => undefined);
    }
  }

  let profile = null;
  if (PROFILE && !bench.aborting) {
    if (timeLeft() > 60_000 || QUICK) {
      log('— profile: server under --cpu-prof (handshakes, delivery, broadcasts)');
      profile = await profilePhase().catch((error) => ({ error: error instanceof Error ? error.message : String(error) }));
    } else {
      profile = { skipped: 'not enough time left before the deadline' };
    }
  }

  if (bench.aborting) return;
  const loadAverageAtEnd = require('node:os').loadavg().map((v) => round(v, 2));
  /** @type {Record<string, any>} */
  const results = { meta: { ...meta, finishedAt: new Date().toISOString(), durationSec: Math.round((Date.now() - started) / 1000), loadAverageAtEnd }, scenarios, profile };
  results.targets = report.targetChecks(results);
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(path.join(RESULTS, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(path.join(RESULTS, `${CONFIG.mode}-${STAMP}.json`), `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`\n${report.consoleTable(results)}\n${publishLines(scenarios.publish).join('\n')}\n${churnLines(scenarios.churn).join('\n')}\n\n`);
  log('wrote bench/results/latest.json');
  if (CONFIG.mode === 'full' && !flag('no-docs') && ONLY.length >= 6) {
    writeFileSync(path.join(ROOT, 'docs', 'BENCHMARKS.md'), report.markdown(results, ROOT));
    log('wrote docs/BENCHMARKS.md');
  } else {
    log('docs/BENCHMARKS.md left as is (regenerated by a full run of every scenario)');
  }
}

main()
  .then(
    () => cleanup(),
    async (error) => {
      log(`bench failed: ${error instanceof Error ? error.stack : String(error)}`);
      await cleanup();
      process.exitCode = 1;
    },
  )
  .finally(() => {
    stopLifecycle();
    stopProgress();
    log(`done in ${Math.round((Date.now() - started) / 1000)}s`);
    // Nothing of ours may linger: generators and servers are stopped; exit even if a handle is left.
    setTimeout(() => process.exit(), 200).unref();
  });
