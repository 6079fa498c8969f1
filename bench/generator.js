'use strict';
/**
 * Load-generator child process. Driven by bench/run.js over the IPC channel: opens socket.io
 * (websocket transport only) and SSE connections spread over several loopback source
 * addresses, publishes over keep-alive HTTP at a fixed open-loop rate, and records the latency
 * of every bench notification it receives (`data.t` = send time, `data.k` = key).
 *
 * Every command is bounded in count and time; the process exits when its parent goes away.
 */

const http = require('node:http');
const { io } = require('socket.io-client');
const jwt = require('jsonwebtoken');
const { nowMs, sleep, summarize, pool } = require('./lib/util.js');

/** @typedef {import('socket.io-client').Socket} ClientSocket */
/** @typedef {{ id: string, tenantId: string, admin: boolean }} BenchUser */

const NAME = process.argv[2] ?? `gen-${process.pid}`;

/** @type {ClientSocket[]} */
let sockets = [];
/** @type {{ request: http.ClientRequest, open: boolean }[]} */
let streams = [];
/** key → latencies (ms) of every copy received by this process. */
let received = new Map();
let drops = 0;
let closing = false;

function onNotification(/** @type {any} */ payload) {
  const data = payload && payload.data;
  if (!data || typeof data.k !== 'string' || typeof data.t !== 'number') return;
  const latency = nowMs() - data.t;
  const list = received.get(data.k);
  if (list) list.push(latency);
  else received.set(data.k, [latency]);
}

/** @param {unknown} message */
function send(message) {
  if (process.connected) process.send?.(message);
}

/** Progress every second while a long command runs. @param {() => object} snapshot */
function progress(snapshot) {
  const timer = setInterval(() => send({ type: 'progress', gen: NAME, ...snapshot() }), 1000);
  return () => clearInterval(timer);
}

/**
 * @param {{ kind: 'ours'|'bare', url: string, namespace: string, origin: string, localAddresses: string[],
 *   users: BenchUser[], secret?: string, tokenTtlSec: number, concurrency: number, timeoutMs: number, deadlineMs: number }} c
 */
async function connect(c) {
  const errors = /** @type {Record<string, number>} */ ({});
  const handshakeMs = /** @type {number[]} */ ([]);
  const connectedIds = /** @type {string[]} */ ([]);
  let ok = 0;
  let failed = 0;
  const firstStart = nowMs();
  let lastDone = firstStart;
  const deadline = firstStart + c.deadlineMs;
  const stop = progress(() => ({ phase: 'connect', ok, failed, total: c.users.length }));
  try {
    await pool(
      c.users.length,
      c.concurrency,
      (i) =>
        new Promise((resolve) => {
          const user = c.users[i];
          const auth =
            c.kind === 'ours'
              ? { token: jwt.sign({ sub: user.id }, /** @type {string} */ (c.secret), { algorithm: 'HS256', expiresIn: c.tokenTtlSec }) }
              : { uid: user.id, tid: user.tenantId, admin: user.admin };
          const started = nowMs();
          // engine.io-client passes localAddress through to `ws` (transports/websocket.js picks it);
          // socket.io-client's option types do not name it.
          const options = /** @type {Partial<import('socket.io-client').ManagerOptions & import('socket.io-client').SocketOptions> & { localAddress: string }} */ ({
            transports: ['websocket'],
            reconnection: false,
            forceNew: true,
            timeout: c.timeoutMs,
            auth,
            extraHeaders: { origin: c.origin },
            localAddress: c.localAddresses[i % c.localAddresses.length],
          });
          const socket = io(c.url + c.namespace, options);
          socket.on('notification:new', onNotification);
          socket.once('connect', () => {
            ok += 1;
            lastDone = nowMs();
            handshakeMs.push(lastDone - started);
            connectedIds.push(user.id);
            sockets.push(socket);
            socket.on('disconnect', () => {
              if (!closing) drops += 1;
            });
            resolve(undefined);
          });
          socket.once('connect_error', (error) => {
            failed += 1;
            const key = String(error && error.message).slice(0, 80);
            errors[key] = (errors[key] ?? 0) + 1;
            socket.close();
            resolve(undefined);
          });
        }),
      () => nowMs() > deadline,
    );
  } finally {
    stop();
  }
  const skipped = c.users.length - ok - failed;
  return { ok, failed, skipped, errors, firstStart, lastDone, handshake: summarize(handshakeMs), connectedIds };
}

/**
 * Opens SSE streams; a stream counts once its 200 response headers arrived.
 * @param {{ kind: 'ours'|'bare', url: string, origin: string, localAddresses: string[], users: BenchUser[],
 *   secret?: string, tokenTtlSec: number, concurrency: number, timeoutMs: number, deadlineMs: number }} c
 */
async function sseOpen(c) {
  const target = new URL(c.url);
  const errors = /** @type {Record<string, number>} */ ({});
  const openMs = /** @type {number[]} */ ([]);
  let ok = 0;
  let failed = 0;
  const firstStart = nowMs();
  let lastDone = firstStart;
  const deadline = firstStart + c.deadlineMs;
  const stop = progress(() => ({ phase: 'sse-open', ok, failed, total: c.users.length }));
  try {
    await pool(
      c.users.length,
      c.concurrency,
      (i) =>
        new Promise((resolve) => {
          const user = c.users[i];
          /** @type {Record<string, string>} */
          const headers = { accept: 'text/event-stream', origin: c.origin };
          let path;
          if (c.kind === 'ours') {
            const token = jwt.sign({ sub: user.id }, /** @type {string} */ (c.secret), { algorithm: 'HS256', expiresIn: c.tokenTtlSec });
            headers.authorization = `Bearer ${token}`;
            path = '/notifications/stream';
          } else {
            path = `/stream?uid=${user.id}&tid=${user.tenantId}&admin=${user.admin ? 1 : 0}`;
          }
          const started = nowMs();
          let settled = false;
          const settle = (/** @type {string|null} */ error) => {
            if (settled) return;
            settled = true;
            if (error === null) {
              ok += 1;
              lastDone = nowMs();
              openMs.push(lastDone - started);
            } else {
              failed += 1;
              errors[error] = (errors[error] ?? 0) + 1;
            }
            resolve(undefined);
          };
          const request = http.request({
            host: target.hostname,
            port: target.port,
            path,
            method: 'GET',
            headers,
            agent: false,
            localAddress: c.localAddresses[i % c.localAddresses.length],
            timeout: c.timeoutMs,
          });
          const entry = { request, open: false };
          request.on('timeout', () => request.destroy(new Error('timeout')));
          request.on('error', (error) => {
            if (entry.open && !closing) drops += 1;
            entry.open = false;
            settle(String(error.message).slice(0, 80));
          });
          request.on('response', (response) => {
            if (response.statusCode !== 200) {
              response.resume();
              settle(`HTTP ${response.statusCode}`);
              return;
            }
            request.setTimeout(0);
            entry.open = true;
            streams.push(entry);
            response.setEncoding('utf8');
            let buffer = '';
            response.on('data', (/** @type {string} */ chunk) => {
              buffer += chunk;
              let end;
              while ((end = buffer.indexOf('\n\n')) !== -1) {
                const block = buffer.slice(0, end);
                buffer = buffer.slice(end + 2);
                let event = 'message';
                let data = '';
                for (const line of block.split('\n')) {
                  if (line.startsWith('event:')) event = line.slice(6).trim();
                  else if (line.startsWith('data:')) data += line.slice(5).trimStart();
                }
                if (event === 'notification:new' && data) {
                  try {
                    onNotification(JSON.parse(data));
                  } catch {
                    // not a bench payload
                  }
                }
              }
            });
            response.on('end', () => {
              if (entry.open && !closing) drops += 1;
              entry.open = false;
            });
            settle(null);
          });
          request.end();
        }),
      () => nowMs() > deadline,
    );
  } finally {
    stop();
  }
  return { ok, failed, skipped: c.users.length - ok - failed, errors, firstStart, lastDone, handshake: summarize(openMs) };
}

/** @type {http.Agent | null} */
let agent = null;

/**
 * One POST; resolves with the status, never rejects.
 * @param {URL} base @param {string} path @param {object} body @param {Record<string,string>} headers @param {number} timeoutMs
 * @returns {Promise<{ status: number, error?: string }>}
 */
function post(base, path, body, headers, timeoutMs) {
  const payload = JSON.stringify(body);
  return new Promise((resolve) => {
    const request = http.request(
      {
        host: base.hostname,
        port: base.port,
        path,
        method: 'POST',
        agent: /** @type {http.Agent} */ (agent),
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers },
        timeout: timeoutMs,
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve({ status: response.statusCode ?? 0 }));
        response.on('error', (error) => resolve({ status: 0, error: error.message }));
      },
    );
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', (error) => resolve({ status: 0, error: error.message.slice(0, 80) }));
    request.end(payload);
  });
}

/**
 * The request a publisher sends: ours = POST /notifications as an ADMIN; bare = POST /emit.
 * @param {'ours'|'bare'} kind @param {'USER'|'TENANT'} scope @param {string} key @param {number} t
 * @param {{ userId?: string, tenantId?: string }} target
 */
function publishRequest(kind, scope, key, t, target) {
  const data = { b: 1, k: key, t };
  if (kind === 'ours') {
    const body = { title: 'Bench notification', content: 'Load test payload from the bench harness', priority: 'medium', scope, data };
    if (scope === 'USER') Object.assign(body, { userId: target.userId });
    return { path: '/notifications', body };
  }
  const room = scope === 'USER' ? `user:${target.userId}` : `tenant:${target.tenantId}`;
  return {
    path: '/emit',
    body: {
      room,
      event: 'notification:new',
      payload: {
        id: key,
        cursor: '0',
        scope,
        title: 'Bench notification',
        content: 'Load test payload from the bench harness',
        priority: 'medium',
        data,
        createdAt: new Date().toISOString(),
      },
    },
  };
}

/**
 * Open-loop publishing: request i is due at start + i/rate, whether or not earlier ones have
 * answered (so a slow server shows up as latency, not as a lower offered rate). Above
 * `maxInFlight` outstanding requests a due request is skipped and counted.
 * @param {{ kind: 'ours'|'bare', url: string, token?: string, rate: number, durationMs: number, targets: string[],
 *   keyPrefix: string, maxInFlight: number, timeoutMs: number, localAddress: string }} c
 */
async function publish(c) {
  const base = new URL(c.url);
  agent ??= new http.Agent({ keepAlive: true, maxSockets: 64, localAddress: c.localAddress });
  const total = Math.round((c.rate * c.durationMs) / 1000);
  const headers = /** @type {Record<string,string>} */ (c.token ? { authorization: `Bearer ${c.token}` } : {});
  const okKeys = /** @type {string[]} */ ([]);
  const httpMs = /** @type {number[]} */ ([]);
  const errors = /** @type {Record<string, number>} */ ({});
  let fired = 0;
  let skipped = 0;
  let inFlight = 0;
  let failed = 0;
  let lastAnswer = 0;
  /** @type {Promise<void>[]} */
  const pending = [];
  const stop = progress(() => ({ phase: 'publish', fired, ok: okKeys.length, failed, skipped, inFlight, total }));
  const start = nowMs();
  try {
    while (fired < total) {
      const due = Math.min(total, Math.floor(((nowMs() - start) * c.rate) / 1000) + 1);
      while (fired < due) {
        const i = fired++;
        if (inFlight >= c.maxInFlight) {
          skipped += 1;
          continue;
        }
        const key = `${c.keyPrefix}-${i}`;
        const userId = c.targets[Math.floor(Math.random() * c.targets.length)];
        const t = nowMs();
        const { path, body } = publishRequest(c.kind, 'USER', key, t, { userId });
        inFlight += 1;
        pending.push(
          post(base, path, body, headers, c.timeoutMs).then((result) => {
            inFlight -= 1;
            lastAnswer = nowMs();
            if (result.status === 201) {
              okKeys.push(key);
              httpMs.push(nowMs() - t);
            } else {
              failed += 1;
              const reason = result.error ?? `HTTP ${result.status}`;
              errors[reason] = (errors[reason] ?? 0) + 1;
            }
          }),
        );
      }
      if (fired < total) await sleep(Math.max(1, Math.min(5, 1000 / c.rate)));
    }
    const sendMs = nowMs() - start;
    await Promise.all(pending);
    return { attempted: total, ok: okKeys.length, failed, skipped, errors, okKeys, http: summarize(httpMs), sendMs, offeredRate: (fired / sendMs) * 1000, start, lastAnswer };
  } finally {
    stop();
  }
}

/**
 * One broadcast (or one user notification): returns when the POST answered.
 * @param {{ kind: 'ours'|'bare', url: string, token?: string, scope: 'USER'|'TENANT', key: string, userId?: string, tenantId?: string,
 *   timeoutMs: number, localAddress: string }} c
 */
async function postOne(c) {
  const base = new URL(c.url);
  agent ??= new http.Agent({ keepAlive: true, maxSockets: 64, localAddress: c.localAddress });
  const t = nowMs();
  const { path, body } = publishRequest(c.kind, c.scope, c.key, t, { userId: c.userId, tenantId: c.tenantId });
  const result = await post(base, path, body, c.token ? { authorization: `Bearer ${c.token}` } : {}, c.timeoutMs);
  return { ...result, sentAt: t, httpMs: nowMs() - t };
}

/** @param {{ prefix?: string }} c */
function countReceived(c) {
  let keys = 0;
  let copies = 0;
  for (const [key, list] of received) {
    if (c.prefix && !key.startsWith(c.prefix)) continue;
    keys += 1;
    copies += list.length;
  }
  return { keys, copies };
}

/** Hands over (and forgets) what was received, optionally only keys with a prefix. @param {{ prefix?: string }} c */
function collect(c) {
  /** @type {Record<string, number[]>} */
  const out = {};
  for (const [key, list] of received) {
    if (c.prefix && !key.startsWith(c.prefix)) continue;
    out[key] = list.map((/** @type {number} */ v) => Math.round(v * 100) / 100);
    received.delete(key);
  }
  return out;
}

async function closeAll() {
  closing = true;
  const count = sockets.length + streams.length;
  for (const socket of sockets) socket.close();
  for (const stream of streams) stream.request.destroy();
  sockets = [];
  streams = [];
  received = new Map();
  // Let the close frames go out before the server is stopped.
  await sleep(Math.min(3000, 200 + count / 20));
  closing = false;
  drops = 0;
  return { closed: count };
}

function stats() {
  return {
    connected: sockets.reduce((n, s) => n + (s.connected ? 1 : 0), 0),
    streamsOpen: streams.reduce((n, s) => n + (s.open ? 1 : 0), 0),
    drops,
    rssKB: Math.round(process.memoryUsage.rss() / 1024),
    cpuMs: (() => {
      const usage = process.cpuUsage();
      return Math.round((usage.user + usage.system) / 1000);
    })(),
  };
}

/** @type {Record<string, (c: any) => unknown>} */
const COMMANDS = { connect, sseOpen, publish, postOne, countReceived, collect, closeAll, stats };

process.on('message', async (/** @type {any} */ message) => {
  if (!message || typeof message.id !== 'number') return;
  if (message.cmd === 'exit') {
    await closeAll().catch(() => undefined);
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

// The orchestrator owns this process: when it goes, so do we.
process.on('disconnect', () => process.exit(0));
process.on('SIGINT', () => process.exit(130));
send({ type: 'ready', gen: NAME, pid: process.pid });
