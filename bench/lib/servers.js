'use strict';
/** The servers under test: ours (apps/backend/dist/main.js) and the bare socket.io baseline. */
const path = require('node:path');
const children = require('./children.js');
const { sleep } = require('./util.js');
const { JWT_SECRET, LOGS, ORIGIN, RESULTS, ROOT } = require('./config.js');
const { bench } = require('./lifecycle.js');

/** @param {number} port @param {Record<string, string>} extra */
function oursEnv(port, extra) {
  if (!bench.database) throw new Error('no database');
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    DATABASE_URL: bench.database.url,
    JWT_SECRET,
    FRONTEND_URL: ORIGIN,
    LOG_LEVEL: 'warn',
    // The abuse caps are raised so the harness measures throughput, not the limits.
    MAX_WEBSOCKET_CONNECTIONS: '1000000',
    MAX_CONNECTIONS_PER_USER: '100',
    MAX_CONNECTIONS_PER_IP: '1000000',
    CONNECT_RATE_PER_IP: '1000000',
    WS_RATE_LIMIT_POINTS: '100000',
    HTTP_RATE_LIMIT_CREATE: '1000000',
    HTTP_RATE_LIMIT_READ: '1000000',
    HTTP_RATE_LIMIT_STREAM_TICKET: '1000000',
    HTTP_RATE_LIMIT_STREAM_CONNECT: '1000000',
    HTTP_RATE_LIMIT_STREAM_REPLAY: '1000000',
    ...extra,
  };
}

/**
 * @typedef {{ name: string, kind: 'ours'|'bare', child: import('node:child_process').ChildProcess, pid: number, url: string,
 *   logFile: string, openFiles: { soft: string, hard: string } | null }} Server
 */

/** @param {string} name @param {Record<string, string>} [extraEnv] @param {string[]} [nodeArgs] @returns {Promise<Server>} */
async function startOurs(name, extraEnv = {}, nodeArgs = []) {
  const port = await children.freePort();
  const logFile = path.join(LOGS, `${name}.log`);
  const child = children.spawnNode({
    name,
    script: path.join(ROOT, 'apps/backend/dist/main.js'),
    nodeArgs,
    env: oursEnv(port, extraEnv),
    // Not the repo root: main.js loads ./.env when present, which must not leak into the bench.
    cwd: RESULTS,
    logFile,
  });
  const url = `http://127.0.0.1:${port}`;
  await children.waitReady(child, `${url}/health/ready`, 60_000, logFile);
  return { name, kind: 'ours', child, pid: /** @type {number} */ (child.pid), url, logFile, openFiles: children.openFileLimit(/** @type {number} */ (child.pid)) };
}

/** @param {string} name @param {string[]} [nodeArgs] @returns {Promise<Server>} */
async function startBare(name, nodeArgs = []) {
  const port = await children.freePort();
  const logFile = path.join(LOGS, `${name}.log`);
  const child = children.spawnNode({
    name,
    script: path.join(ROOT, 'bench', 'baseline-server.js'),
    nodeArgs,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production', PORT: String(port), HOST: '127.0.0.1' },
    cwd: RESULTS,
    logFile,
  });
  const url = `http://127.0.0.1:${port}`;
  await children.waitReady(child, `${url}/health/ready`, 30_000, logFile);
  return { name, kind: 'bare', child, pid: /** @type {number} */ (child.pid), url, logFile, openFiles: children.openFileLimit(/** @type {number} */ (child.pid)) };
}

/** @param {'ours'|'bare'} kind @param {string} name @param {string[]} [nodeArgs] */
const startServer = (kind, name, nodeArgs = []) => (kind === 'ours' ? startOurs(name, {}, nodeArgs) : startBare(name, nodeArgs));

/** @param {Server} server */
async function stopServer(server) {
  await children.stopChild(server.child, 15_000);
}

/**
 * Memory after full GCs, once RSS has settled (a freshly booted server keeps returning pages
 * for a few seconds): RSS in KiB and process.memoryUsage() of the server.
 * @param {Server} server @param {Awaited<ReturnType<typeof children.openInspector>>} inspector
 */
async function settledMemory(server, inspector) {
  await inspector.gc();
  let last = children.rssKB(server.pid);
  for (let i = 0, steady = 0; i < 20 && steady < 2; i++) {
    await sleep(1000);
    const now = children.rssKB(server.pid);
    steady = Math.abs(now - last) < 512 ? steady + 1 : 0;
    last = now;
  }
  const memory = await inspector.gc();
  return { rssKB: await sampleRss(server.pid), memory };
}

/** Median of a few RSS samples. @param {number} pid */
async function sampleRss(pid, count = 3, gapMs = 300) {
  const samples = [];
  for (let i = 0; i < count; i++) {
    samples.push(children.rssKB(pid));
    if (i < count - 1) await sleep(gapMs);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

module.exports = { oursEnv, startOurs, startBare, startServer, stopServer, settledMemory, sampleRss };
