'use strict';
/**
 * Bulk-publish load child, driven by bench/publish/scenario.js over IPC (the generator
 * protocol of bench/lib/children.js `ipcClient`). Closed loop: `concurrency` workers each send
 * one batch after another for `durationMs`, and every batch's latency is recorded; open loop:
 * batches at a fixed offered rate.
 *
 *   httpBatch: POST batches of `size` to the gateway (`/notifications/batch`) or the floor (`/emit-batch`);
 *   httpSingles: POST one notification at a time (`/notifications` or the floor's `/emit`), `concurrency` in flight;
 *   inProcessOurs: boots the gateway's Nest app in this process (no HTTP) and calls NotificationService.sendMany;
 *   inProcessFloor: the same rows straight into PostgreSQL with one unnest INSERT per batch;
 *   commitProbe: what a COMMIT's WAL flush costs on this machine (added to the gateway's hold).
 * Each run may start with a `warmupMs` closed loop (the same for every server), and with `rate`
 * (rows/s) runs open loop instead of closed.
 */

const http = require('node:http');
const path = require('node:path');
const { Pool } = require('pg');
const { nowMs, summarize, round } = require('../lib/util.js');
const { holdFigures, holdBetween } = require('./lock-hold.js');

const ROOT = path.resolve(__dirname, '..', '..');

/** @param {unknown} message */
function send(message) {
  if (process.connected) process.send?.(message);
}

/**
 * @param {number} concurrency @param {number} durationMs @param {() => Promise<number>} batch resolves with the rows it stored
 */
async function closedLoop(concurrency, durationMs, batch) {
  const latencies = /** @type {number[]} */ ([]);
  const errors = /** @type {Record<string, number>} */ ({});
  let rows = 0;
  const start = nowMs();
  const end = start + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (nowMs() < end) {
        const t = nowMs();
        try {
          // Not `rows += await batch()`: that reads `rows` before the await, and the workers'
          // additions overwrite each other (it counted about one batch in `concurrency`).
          const stored = await batch();
          rows += stored;
          latencies.push(nowMs() - t);
        } catch (error) {
          const reason = error instanceof Error ? error.message.slice(0, 80) : String(error);
          errors[reason] = (errors[reason] ?? 0) + 1;
        }
      }
    }),
  );
  const seconds = (nowMs() - start) / 1000;
  return { rows, batches: latencies.length, rowsPerSec: Math.round(rows / seconds), batchMs: summarize(latencies), errors, seconds: round(seconds, 2) };
}

/**
 * Open loop: one batch every `size / rate` seconds for `durationMs`, whatever the answers do, so
 * the latency is the one a publisher sees at that offered rate (not the queue a closed loop builds).
 * Batches still unanswered at the end are waited for (bounded by the batch's own timeout).
 * @param {number} rate rows per second offered @param {number} size @param {number} durationMs @param {() => Promise<number>} batch
 */
async function openLoop(rate, size, durationMs, batch) {
  const latencies = /** @type {number[]} */ ([]);
  const errors = /** @type {Record<string, number>} */ ({});
  const intervalMs = (size / rate) * 1000;
  const pending = /** @type {Promise<void>[]} */ ([]);
  let rows = 0;
  let lastAnswer = 0;
  const start = nowMs();
  for (let sent = 0; sent * intervalMs < durationMs; sent++) {
    const due = start + sent * intervalMs;
    if (due > nowMs()) await new Promise((resolve) => setTimeout(resolve, due - nowMs()));
    const t = nowMs();
    pending.push(
      batch().then(
        (stored) => {
          rows += stored;
          lastAnswer = nowMs();
          latencies.push(lastAnswer - t);
        },
        (error) => {
          const reason = error instanceof Error ? error.message.slice(0, 80) : String(error);
          errors[reason] = (errors[reason] ?? 0) + 1;
        },
      ),
    );
  }
  await Promise.all(pending);
  const seconds = (Math.max(lastAnswer, start + durationMs) - start) / 1000;
  return { offeredRowsPerSec: rate, rows, batches: latencies.length, rowsPerSec: Math.round(rows / seconds), batchMs: summarize(latencies), errors, seconds: round(seconds, 2) };
}

/**
 * The same warm-up for every server measured (JIT, pools), then the measured run: closed loop at
 * `concurrency`, or open loop when `rate` (rows/s) is given.
 * @param {{ size: number, concurrency: number, durationMs: number, warmupMs?: number, rate?: number }} c @param {() => Promise<number>} batch
 */
async function measured(c, batch) {
  if (c.warmupMs) await closedLoop(c.concurrency, c.warmupMs, batch);
  return c.rate ? openLoop(c.rate, c.size, c.durationMs, batch) : closedLoop(c.concurrency, c.durationMs, batch);
}

/** @type {http.Agent | undefined} */
let agent;
/** @param {URL} base @param {string} pathname @param {string} body @param {Record<string, string>} headers */
function post(base, pathname, body, headers) {
  agent ??= new http.Agent({ keepAlive: true, maxSockets: 64 });
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: base.hostname, port: base.port, path: pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    request.on('error', reject);
    request.setTimeout(30_000, () => request.destroy(new Error('timeout')));
    request.end(body);
  });
}

/** @param {{ kind: 'ours'|'floor', url: string, token?: string, targets: string[], size: number, concurrency: number, durationMs: number, warmupMs?: number, rate?: number }} c */
async function httpBatch(c) {
  const base = new URL(c.url);
  const headers = /** @type {Record<string, string>} */ (c.token ? { authorization: `Bearer ${c.token}` } : {});
  let n = 0;
  return measured(c, async () => {
    const items = Array.from({ length: c.size }, () => {
      const userId = c.targets[n++ % c.targets.length];
      return c.kind === 'ours'
        ? { title: 'Bench batch', content: 'Bulk payload from the bench harness', userId }
        : { room: `user:${userId}`, event: 'notification:new', payload: { title: 'Bench batch', content: 'Bulk payload from the bench harness', scope: 'USER' } };
    });
    const status = await post(base, c.kind === 'ours' ? '/notifications/batch' : '/emit-batch', JSON.stringify({ items }), headers);
    if (status !== 201) throw new Error(`HTTP ${status}`);
    return c.size;
  });
}

/** @param {{ kind: 'ours'|'floor', url: string, token?: string, targets: string[], concurrency: number, durationMs: number, warmupMs?: number }} c */
async function httpSingles(c) {
  const base = new URL(c.url);
  const headers = /** @type {Record<string, string>} */ (c.token ? { authorization: `Bearer ${c.token}` } : {});
  let n = 0;
  return measured({ ...c, size: 1 }, async () => {
    const userId = c.targets[n++ % c.targets.length];
    const body =
      c.kind === 'ours'
        ? { title: 'Bench single', content: 'Single payload from the bench harness', userId }
        : { room: `user:${userId}`, event: 'notification:new', payload: { title: 'Bench single', content: 'Single payload from the bench harness', scope: 'USER' } };
    const status = await post(base, c.kind === 'ours' ? '/notifications' : '/emit', JSON.stringify(body), headers);
    if (status !== 201) throw new Error(`HTTP ${status}`);
    return 1;
  });
}

/** @param {{ env: Record<string, string>, targets: string[], size: number, concurrency: number, durationMs: number, warmupMs?: number, rate?: number }} c */
async function inProcessOurs(c) {
  const { loadConfig } = require(`${ROOT}/apps/backend/dist/config/load-config.js`);
  const { createApp } = require(`${ROOT}/apps/backend/dist/bootstrap.js`);
  const { NotificationService } = require(`${ROOT}/apps/backend/dist/notifications/notification.service.js`);
  const { MetricsService } = require(`${ROOT}/apps/backend/dist/observability/metrics.service.js`);
  const { config } = loadConfig(c.env);
  const app = await createApp(config);
  await app.init();
  try {
    const service = app.get(NotificationService);
    const registry = app.get(MetricsService).registry;
    let n = 0;
    const send = async () => {
      const items = Array.from({ length: c.size }, () => ({ scope: 'USER', userId: c.targets[n++ % c.targets.length], title: 'Bench sendMany', content: 'In-process bulk payload' }));
      return (await service.sendMany(items)).length;
    };
    if (c.warmupMs) await closedLoop(c.concurrency, c.warmupMs, send);
    const before = await lockHold(registry);
    const result = c.rate ? await openLoop(c.rate, c.size, c.durationMs, send) : await closedLoop(c.concurrency, c.durationMs, send);
    return { ...result, lock: holdBetween(before, await lockHold(registry)) };
  } finally {
    await app.close();
  }
}

/** @param {{ databaseUrl: string, targets: string[], size: number, concurrency: number, durationMs: number, warmupMs?: number, rate?: number }} c */
async function inProcessFloor(c) {
  const pool = new Pool({ connectionString: c.databaseUrl, max: 20 });
  try {
    await pool.query('CREATE TABLE IF NOT EXISTS floor_notifications (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), seq bigserial, room text NOT NULL, payload jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())');
    let n = 0;
    return await measured(c, async () => {
      const rooms = Array.from({ length: c.size }, () => `user:${c.targets[n++ % c.targets.length]}`);
      const payloads = rooms.map(() => JSON.stringify({ title: 'Bench sendMany', content: 'In-process bulk payload' }));
      const { rowCount } = await pool.query('INSERT INTO floor_notifications (room, payload) SELECT * FROM unnest($1::text[], $2::jsonb[]) RETURNING id, seq', [rooms, payloads]);
      return rowCount ?? 0;
    });
  } finally {
    await pool.end();
  }
}

/** Per group and per notification, from the gateway's own histogram. @param {import('prom-client').Registry} registry */
async function lockHold(registry) {
  const metrics = await registry.getMetricsAsJSON();
  const hold = metrics.find((m) => m.name === 'notify_stream_lock_hold_seconds');
  const rows = metrics.find((m) => m.name === 'notify_group_commit_notifications_total');
  const value = (/** @type {any} */ metric, /** @type {string} */ suffix) => metric?.values.find((/** @type {any} */ v) => (v.metricName ?? metric.name) === `${metric.name}${suffix}`)?.value ?? 0;
  const sum = value(hold, '_sum');
  const groups = value(hold, '_count');
  const notifications = rows?.values[0]?.value ?? 0;
  return holdFigures({ groups, notifications, holdSeconds: sum });
}

/**
 * What one COMMIT of a one-row write costs here (its WAL flush), the part of a group's hold that
 * follows the statement and that the database cannot time from inside: the median COMMIT round
 * trip minus the median round trip of an empty statement, on an otherwise idle connection.
 * @param {{ databaseUrl: string, samples: number }} c
 */
async function commitProbe(c) {
  const pool = new Pool({ connectionString: c.databaseUrl, max: 1 });
  try {
    await pool.query('CREATE TABLE IF NOT EXISTS bench_commit_probe (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())');
    const client = await pool.connect();
    try {
      const commits = [];
      const empties = [];
      for (let i = 0; i < c.samples; i++) {
        await client.query('BEGIN');
        await client.query('INSERT INTO bench_commit_probe DEFAULT VALUES');
        let t = nowMs();
        await client.query('COMMIT');
        commits.push(nowMs() - t);
        t = nowMs();
        await client.query('SELECT 1');
        empties.push(nowMs() - t);
      }
      const median = (/** @type {number[]} */ xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
      return { samples: c.samples, commitMs: round(median(commits), 4), roundTripMs: round(median(empties), 4), flushMs: round(Math.max(0, median(commits) - median(empties)), 4) };
    } finally {
      client.release();
    }
  } finally {
    await pool.end();
  }
}

/** @type {Record<string, (args: any) => Promise<unknown>>} */
const COMMANDS = { httpBatch, httpSingles, inProcessOurs, inProcessFloor, commitProbe };

process.on('message', async (/** @type {any} */ message) => {
  if (!message || typeof message.id !== 'number') return;
  if (message.cmd === 'exit') {
    send({ id: message.id, ok: true, result: null });
    setTimeout(() => process.exit(0), 50);
    return;
  }
  const handler = COMMANDS[message.cmd];
  if (!handler) return send({ id: message.id, ok: false, error: `unknown command ${message.cmd}` });
  try {
    send({ id: message.id, ok: true, result: await handler(message.args ?? {}) });
  } catch (error) {
    send({ id: message.id, ok: false, error: error instanceof Error ? error.stack : String(error) });
  }
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready', pid: process.pid });

module.exports = { lockHold };
