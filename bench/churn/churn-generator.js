'use strict';
/**
 * Load-generator child of the churn scenario (bench/churn/scenario.js), driven over IPC.
 * Holds clients that reconnect by themselves — packages/client for the gateway, plain
 * socket.io-client (with or without connection state recovery on the server) for the bare
 * baseline — and publishers that retry. Records, per client, when each notification (by its
 * `data.k`) was first handed to the application, every extra copy, every reconnect and the
 * longest time without a connection; `report` turns that into the figures of the scenario.
 */

const path = require('node:path');
const { createSecretKey } = require('node:crypto');
const jwt = require('jsonwebtoken');
const { io } = require('socket.io-client');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const { nowMs, sleep, pool, summarize } = require('../lib/util.js');

const ROOT = path.resolve(__dirname, '../..');
const { createNotificationClient } = require(path.join(ROOT, 'packages/client/dist/index.js'));
const NAME = process.argv[2] ?? `churn-${process.pid}`;
/** The target of issue 21 for a reconnect's replay: slower ones are looked at one by one. */
const SLOW_REPLAY_MS = 1000;

/**
 * @typedef {{ id: string, tenantId: string, admin: boolean }} BenchUser
 * @typedef {{ user: BenchUser, handed: Map<string, number>, copies: number, reconnects: number[], downSince: number | undefined,
 *   longestDownMs: number, connected: boolean, downs: number[], awayMs: number[], close: () => void, stoppedReason?: string, resets: number,
 *   order: string[], scanned: number, matched: number, position: () => string | undefined, state: () => string, why: string[] }} Tracked
 * @typedef {{ k: string, aud: string, at: number, offset?: string }} Accepted
 */

/** @type {Tracked[]} */
let clients = [];
let stopPublishing = false;
/** The gateway's publishes whose budget ran out: key and body, for `recover`. @type {{ url: string, token: string, k: string, body: object }[]} */
let gaveUp = [];
/** Why clients went to `reconnecting`, by reason (the transport's or the refusal's), for the report. */
/** @type {Record<string, number>} */
let downReasons = {};
/** Why the gateway told clients their position was void (`reset` state), by reason. */
/** @type {Record<string, number>} */
let resetReasons = {};

/**
 * This process's own event-loop delay, second by second (wall-clock second → max ms): a slow
 * replay or publish is then put beside what this process itself was doing at that moment.
 * @type {Map<number, number>}
 */
const loopMaxBySecond = new Map();
/** This process's CPU, second by second (wall-clock second → ms of CPU): what simulating the clients costs. @type {Map<number, number>} */
const cpuBySecond = new Map();
const loopWindow = monitorEventLoopDelay({ resolution: 20 });
loopWindow.enable();
let cpuMark = process.cpuUsage();
setInterval(() => {
  const second = Math.floor(nowMs() / 1000);
  loopMaxBySecond.set(second, Math.round(loopWindow.max / 1e6));
  loopWindow.reset();
  const cpu = process.cpuUsage(cpuMark);
  cpuMark = process.cpuUsage();
  cpuBySecond.set(second, Math.round((cpu.user + cpu.system) / 1000));
  // An hour is more than any run: older seconds go.
  if (loopMaxBySecond.size > 3600) loopMaxBySecond.delete(/** @type {number} */ (loopMaxBySecond.keys().next().value));
  if (cpuBySecond.size > 3600) cpuBySecond.delete(/** @type {number} */ (cpuBySecond.keys().next().value));
}, 1000).unref();

/** The worst loop delay this process saw between two wall-clock times (ms). @param {number} from @param {number} to */
function loopMaxBetween(from, to) {
  let worst = 0;
  // A delay is recorded in the second its sample ends: look one second past the end.
  for (let s = Math.floor(from / 1000); s <= Math.floor(to / 1000) + 1; s++) worst = Math.max(worst, loopMaxBySecond.get(s) ?? 0);
  return worst;
}

/** @param {Tracked} t @param {unknown} payload */
function receive(t, payload) {
  const data = /** @type {any} */ (payload)?.data;
  if (!data || typeof data.k !== 'string') return;
  if (t.handed.has(data.k)) t.copies += 1;
  else {
    t.handed.set(data.k, nowMs());
    t.order.push(data.k);
  }
}

/** @param {Tracked} t */
function wentDown(t) {
  if (t.connected) t.downs.push(nowMs());
  t.connected = false;
  if (t.downSince === undefined) t.downSince = nowMs();
}

/** @param {Tracked} t @param {boolean} first */
function cameUp(t, first) {
  const now = nowMs();
  t.connected = true;
  if (!first) {
    t.reconnects.push(now);
    t.awayMs.push(t.downSince === undefined ? 0 : now - t.downSince);
  }
  if (t.downSince !== undefined) t.longestDownMs = Math.max(t.longestDownMs, now - t.downSince);
  t.downSince = undefined;
}

/**
 * `urls`: the balancer tier's nodes; client i goes through urls[i % n].
 * @param {{ kind: 'ours'|'bare', urls: string[], namespace: string, origin: string, users: BenchUser[], secret?: string,
 *   tokenTtlSec: number, concurrency: number, localAddresses: string[], timeoutMs: number }} c
 */
async function open(c) {
  let ok = 0;
  let failed = 0;
  // One key object for every token: given the secret as a string, jsonwebtoken first tries it as
  // a PEM private key and builds an error for each sign (a quarter of this process's CPU at connect).
  const key = c.secret === undefined ? undefined : createSecretKey(Buffer.from(c.secret));
  await pool(c.users.length, c.concurrency, async (i) => {
    const user = c.users[i];
    /** @type {Tracked} */
    const t = { user, handed: new Map(), copies: 0, reconnects: [], downSince: undefined, longestDownMs: 0, connected: false, downs: [], awayMs: [], close: () => undefined, resets: 0, order: [], scanned: 0, matched: 0, position: () => undefined, state: () => 'bare', why: [] };
    const localAddress = c.localAddresses[i % c.localAddresses.length];
    const url = c.urls[i % c.urls.length];
    let first = true;
    const up = await new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), c.timeoutMs);
      if (c.kind === 'ours') {
        const client = createNotificationClient({
          url,
          transports: ['websocket'],
          getToken: () => Promise.resolve(jwt.sign({ sub: user.id }, /** @type {import('node:crypto').KeyObject} */ (key), { algorithm: 'HS256', expiresIn: c.tokenTtlSec })),
          onNotification: (/** @type {unknown} */ n) => receive(t, n),
          socketOptions: { extraHeaders: { origin: c.origin }, localAddress },
        });
        client.on('state', (/** @type {{ state: string, reason?: string }} */ change) => {
          if (change.state === 'reconnecting') {
            wentDown(t);
            const reason = change.reason ?? 'unknown';
            downReasons[reason] = (downReasons[reason] ?? 0) + 1;
            t.why.push(reason);
          }
          if (change.state === 'stopped') {
            wentDown(t);
            t.stoppedReason = change.reason ?? 'stopped';
          }
          if (change.state === 'reset') {
            // Told, not lost: the client was further behind than the server replays (CATCH_UP_MAX).
            t.resets += 1;
            const reason = change.reason ?? 'unknown';
            resetReasons[reason] = (resetReasons[reason] ?? 0) + 1;
          }
          if (change.state === 'syncing') {
            cameUp(t, first);
            first = false;
          }
          if (change.state === 'live') {
            clearTimeout(timer);
            resolve(true);
          }
        });
        t.close = () => client.close();
        t.position = () => client.lastPosition;
        t.state = () => client.state;
      } else {
        const socket = io(url + c.namespace, /** @type {any} */ ({
          transports: ['websocket'],
          auth: { uid: user.id, tid: user.tenantId, admin: user.admin },
          extraHeaders: { origin: c.origin },
          localAddress,
          forceNew: true,
        }));
        socket.on('notification:new', (/** @type {unknown} */ n) => receive(t, n));
        socket.on('disconnect', () => wentDown(t));
        socket.on('connect', () => {
          cameUp(t, first);
          first = false;
          clearTimeout(timer);
          resolve(true);
        });
        t.close = () => socket.close();
      }
    });
    clients.push(t);
    if (up) ok += 1;
    else failed += 1;
  });
  return { ok, failed };
}

/**
 * A steady open-loop rate of USER and TENANT notifications. The gateway's go through the
 * balancer with an Idempotency-Key and are retried (same key) until a 201 or the budget is spent;
 * the bare baseline's go to every instance (it has no shared adapter), accepted when one took it.
 * @param {{ kind: 'ours'|'bare', url: string, urls: string[], token?: string, rate: number, durationMs: number, userIds: string[],
 *   tenantId: string, tenantShare: number, keyPrefix: string, retryBudgetMs: number, maxInFlight: number }} c
 */
async function publish(c) {
  /** @type {Accepted[]} */
  const accepted = [];
  /** @type {Record<string, number>} */
  const errorsSeen = {};
  let unrecoverable = 0;
  let retried = 0;
  let inFlight = 0;
  let skipped = 0;
  let fired = 0;
  const seen = (/** @type {string} */ label) => (errorsSeen[label] = (errorsSeen[label] ?? 0) + 1);
  /** Each attempt, by the wall-clock second it was sent in and its outcome: when the errors happen. @type {Record<string, Record<string, number>>} */
  const attemptsBySecond = {};
  const recordAttempt = (/** @type {number} */ sentAt, /** @type {string} */ outcome) => {
    const bucket = (attemptsBySecond[String(Math.floor(sentAt / 1000))] ??= {});
    bucket[outcome] = (bucket[outcome] ?? 0) + 1;
  };
  /** Publishes given up on, by the wall-clock second of their first attempt. @type {Record<string, number>} */
  const gaveUpBySecond = {};
  const started = nowMs();
  const total = Math.round((c.rate * c.durationMs) / 1000);
  // Is a slow answer the server's, or this process's own event loop (1,000+ clients beside the publisher)?
  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();
  const cpuAtStart = process.cpuUsage();
  /** @type {number[]} */
  const answeredMs = [];
  /** @type {Promise<void>[]} */
  const running = [];

  /**
   * The answer's status, and for a 201 the stored notification's offset (where a copy not handed
   * over sits in its stream).
   * @param {string} url @param {object} body @param {Record<string, string>} headers
   * @returns {Promise<{ status: number | string, offset?: string }>}
   */
  const post = (url, body, headers) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) }).then(
      async (response) => {
        const answer = /** @type {any} */ (await response.json().catch(() => undefined));
        return { status: response.status, offset: response.status === 201 && typeof answer?.offset === 'string' ? answer.offset : undefined };
      },
      (/** @type {any} */ error) => ({ status: `network: ${String(error?.cause?.code ?? error?.name ?? 'error')}` }),
    );

  /** @param {number} i */
  const one = async (i) => {
    const k = `${c.keyPrefix}-${i}`;
    const tenantWide = Math.random() < c.tenantShare;
    const userId = c.userIds[Math.floor(Math.random() * c.userIds.length)];
    const aud = tenantWide ? 't' : `u:${userId}`;
    // Fixed per notification: a retry must send the same body (or the key answers 409).
    const t = nowMs();
    const until = t + c.retryBudgetMs;
    /** @type {object | undefined} */
    let lastBody;
    for (let attempt = 0; nowMs() < until; attempt++) {
      if (attempt > 0) retried += 1;
      if (c.kind === 'ours') {
        const body = tenantWide ? { title: `churn ${k}`, content: 'c', scope: 'TENANT', data: { k, t } } : { title: `churn ${k}`, content: 'c', scope: 'USER', userId, data: { k, t } };
        lastBody = body;
        const sent = nowMs();
        const { status, offset } = await post(`${c.url}/notifications`, body, { authorization: `Bearer ${c.token}`, 'idempotency-key': k });
        if (typeof status === 'number') answeredMs.push(nowMs() - sent);
        recordAttempt(sent, typeof status === 'number' ? `HTTP ${status}` : status);
        if (status === 201) return void accepted.push({ k, aud, at: nowMs(), offset });
        seen(typeof status === 'number' ? `HTTP ${status}` : status);
        if (!transient(status)) break;
      } else {
        const payload = { data: { k, t } };
        const room = tenantWide ? `tenant:${c.tenantId}` : `user:${userId}`;
        const sent = nowMs();
        const statuses = await Promise.all(c.urls.map(async (url) => (await post(`${url}/emit`, { room, event: 'notification:new', payload }, {})).status));
        recordAttempt(sent, statuses.includes(201) ? 'HTTP 201' : String(statuses[0]));
        for (const status of statuses) if (status !== 201) seen(typeof status === 'number' ? `HTTP ${status}` : status);
        if (statuses.includes(201)) return void accepted.push({ k, aud, at: nowMs() });
      }
      await sleep(retryDelayMs(attempt));
    }
    unrecoverable += 1;
    gaveUpBySecond[String(Math.floor(t / 1000))] = (gaveUpBySecond[String(Math.floor(t / 1000))] ?? 0) + 1;
    if (lastBody && c.token) gaveUp.push({ url: c.url, token: c.token, k, body: lastBody });
  };

  stopPublishing = false;
  gaveUp = [];
  for (let i = 0; i < total && !stopPublishing; i++) {
    const due = started + (i * 1000) / c.rate;
    const wait = due - nowMs();
    if (wait > 0) await sleep(wait);
    if (inFlight >= c.maxInFlight) {
      skipped += 1;
      continue;
    }
    inFlight += 1;
    fired += 1;
    running.push(one(i).finally(() => (inFlight -= 1)));
  }
  await Promise.all(running);
  loopDelay.disable();
  const cpu = process.cpuUsage(cpuAtStart);
  const seconds = (nowMs() - started) / 1000;
  const answered = summarize(answeredMs);
  const self = {
    cpuCores: Math.round(((cpu.user + cpu.system) / 1e6 / seconds) * 100) / 100,
    loopDelayMs: { p99: Math.round(loopDelay.percentile(99) / 1e6), max: Math.round(loopDelay.max / 1e6) },
    answeredMs: { p50: answered.p50, p99: answered.p99, max: answered.max, count: answered.count },
  };
  return { accepted, errorsSeen, unrecoverable, retried, skipped, attempted: fired, self, attemptsBySecond, gaveUpBySecond };
}

/** 50 ms doubling to 1 s, with jitter: the publishers' pause before attempt `attempt + 1`. @param {number} attempt */
function retryDelayMs(attempt) {
  return Math.min(1000, 50 * 2 ** attempt) * (0.5 + Math.random());
}

/**
 * Whether a publisher tries again: no answer, 408 (the server timed the request out: RFC 9110 lets
 * the client repeat it), 429 and 5xx. Any other 4xx is final.
 * @param {number | string} status
 */
function transient(status) {
  return typeof status !== 'number' || status === 408 || status === 429 || status >= 500;
}

/**
 * After the storm: each publish the 30 s budget gave up on, sent again with the same key and body
 * until it is answered for good, as a backend that keeps retrying would. `original`: the server
 * had committed it during the storm (the answer is the stored notification, created before this
 * call); `createdNow`: it had not, and is stored now; anything else failed for good, or was still
 * failing when the 60 s ran out. `resent`: the sends beyond the first. Not added to `accepted`.
 */
async function recover() {
  const at = Date.now();
  /** @type {Record<string, number>} */
  const outcome = { original: 0, createdNow: 0, resent: 0 };
  // Bounded (the scenario waits 120 s): what is not sent again within 60 s is counted as such.
  const until = at + 60_000;
  await pool(gaveUp.length, 32, async (i) => {
    if (Date.now() > until) return void (outcome.notSentAgain = (outcome.notSentAgain ?? 0) + 1);
    const { url, token, k, body } = gaveUp[i];
    /** @type {{ status: number | string, json: any }} */
    let result;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) outcome.resent += 1;
      result = await fetch(`${url}/notifications`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'idempotency-key': k }, body: JSON.stringify(body), signal: AbortSignal.timeout(Math.max(1000, until - Date.now())) }).then(
        async (response) => ({ status: response.status, json: /** @type {any} */ (await response.json().catch(() => ({}))) }),
        (/** @type {any} */ error) => ({ status: `network: ${String(error?.cause?.code ?? error?.name ?? 'error')}`, json: {} }),
      );
      if (!transient(result.status) || Date.now() > until) break;
      await sleep(retryDelayMs(attempt));
    }
    const label = result.status === 201 ? (Date.parse(result.json.createdAt) < at ? 'original' : 'createdNow') : typeof result.status === 'number' ? `HTTP ${result.status}` : result.status;
    outcome[label] = (outcome[label] ?? 0) + 1;
  });
  return { retried: gaveUp.length, ...outcome };
}

function stats() {
  const usage = process.cpuUsage();
  return {
    clients: clients.length,
    connected: clients.reduce((n, t) => n + (t.connected ? 1 : 0), 0),
    rssKB: Math.round(process.memoryUsage.rss() / 1024),
    cpuMs: Math.round((usage.user + usage.system) / 1000),
  };
}

/**
 * The accepted notifications of the run, given once after publishing (`expect`): `progress` then
 * counts against them, and `report` reads them. Not sent with every poll of the drain wait: the
 * list (10,000+ entries at full size) crossed the IPC channel and was matched against every
 * client once a second, on the processes whose clients were still catching up.
 * @type {{ accepted: Accepted[], audienceOf: Map<string, string>, perUser: Map<string, number>, tenantWide: number } | null}
 */
let expectation = null;

/** @param {{ accepted: Accepted[] }} c */
function expect(c) {
  const perUser = new Map();
  let tenantWide = 0;
  for (const a of c.accepted) {
    if (a.aud === 't') tenantWide += 1;
    else perUser.set(a.aud.slice(2), (perUser.get(a.aud.slice(2)) ?? 0) + 1);
  }
  expectation = { accepted: c.accepted, audienceOf: new Map(c.accepted.map((a) => [a.k, a.aud])), perUser, tenantWide };
  for (const t of clients) {
    t.scanned = 0;
    t.matched = 0;
  }
  return null;
}

/** Copies expected and handed so far; each call looks only at what was handed since the last. */
function progress() {
  if (!expectation) throw new Error('progress before expect');
  const { audienceOf, perUser, tenantWide } = expectation;
  let expected = 0;
  let delivered = 0;
  for (const t of clients) {
    const own = `u:${t.user.id}`;
    for (; t.scanned < t.order.length; t.scanned++) {
      const aud = audienceOf.get(/** @type {string} */ (t.order[t.scanned]));
      if (aud === own || (aud === 't' && t.user.admin)) t.matched += 1;
    }
    expected += (perUser.get(t.user.id) ?? 0) + (t.user.admin ? tenantWide : 0);
    delivered += t.matched;
  }
  return { expected, delivered };
}

/**
 * Per client: what it should hold (every accepted notification of its audience), what it was
 * handed, extra copies, and for each reconnect how long until it held everything accepted before
 * (against what `expect` was given).
 */
function report() {
  if (!expectation) throw new Error('report before expect');
  const byUser = new Map();
  const tenantWide = [];
  for (const a of expectation.accepted) {
    if (a.aud === 't') tenantWide.push(a);
    else {
      const list = byUser.get(a.aud.slice(2)) ?? [];
      list.push(a);
      byUser.set(a.aud.slice(2), list);
    }
  }
  let expected = 0;
  let delivered = 0;
  let duplicates = 0;
  let unexpected = 0;
  let reconnects = 0;
  let replaysIncomplete = 0;
  let longestDownMs = 0;
  let downNow = 0;
  // Where the copies not handed over are: clients told `reset`, clients down at the end, the rest.
  const missing = { afterReset: 0, downAtEnd: 0, other: 0 };
  /**
   * The first copies of the rest, one by one: where each sits in its stream (the last accepted
   * offset of the audience: a hole at the tail shows no later offset to reveal it), and the client.
   * @type {object[]}
   */
  const otherMissing = [];
  /** The clients told `reset`: how they came to be so far behind. @type {object[]} */
  const resetClients = [];
  const lastOffsetOf = new Map();
  for (const a of expectation.accepted) if (a.offset !== undefined && BigInt(a.offset) > BigInt(lastOffsetOf.get(a.aud) ?? '0')) lastOffsetOf.set(a.aud, a.offset);
  let clientsReset = 0;
  /** @type {Record<string, number>} */
  const stopped = {};
  /** @type {number[]} */
  const replayMs = [];
  /** @type {{ at: number, ms: number, awayMs: number, admin: boolean, loopMaxMs: number, downAgain: boolean }[]} */
  const slowReplays = [];
  /** Notifications handed to the application (first copies), by wall-clock second. @type {Record<string, number>} */
  const handedBySecond = {};
  for (const t of clients) {
    for (const handedAt of t.handed.values()) {
      const second = String(Math.floor(handedAt / 1000));
      handedBySecond[second] = (handedBySecond[second] ?? 0) + 1;
    }
    const mine = [...(byUser.get(t.user.id) ?? []), ...(t.user.admin ? tenantWide : [])];
    const keys = new Set(mine.map((a) => a.k));
    expected += mine.length;
    let handed = 0;
    for (const a of mine) if (t.handed.has(a.k)) handed += 1;
    delivered += handed;
    if (t.resets > 0) {
      clientsReset += 1;
      missing.afterReset += mine.length - handed;
      if (resetClients.length < 10) resetClients.push({ admin: t.user.admin, downs: t.downs.map(Math.round), reconnects: t.reconnects.map(Math.round), awayMs: t.awayMs.map(Math.round), why: t.why });
    } else if (!t.connected) missing.downAtEnd += mine.length - handed;
    else {
      missing.other += mine.length - handed;
      for (const a of mine) {
        if (otherMissing.length >= 20) break;
        if (!t.handed.has(a.k)) otherMissing.push({ k: a.k, aud: a.aud, acceptedAt: Math.round(a.at), offset: a.offset, lastOffsetOfAudience: lastOffsetOf.get(a.aud), admin: t.user.admin, reconnects: t.reconnects.map(Math.round), downs: t.downs.map(Math.round), state: t.state(), position: t.position() });
      }
    }
    for (const k of t.handed.keys()) if (!keys.has(k)) unexpected += 1;
    duplicates += t.copies;
    if (!t.connected) downNow += 1;
    if (t.stoppedReason) stopped[t.stoppedReason] = (stopped[t.stoppedReason] ?? 0) + 1;
    longestDownMs = Math.max(longestDownMs, t.longestDownMs, t.downSince !== undefined ? nowMs() - t.downSince : 0);
    for (const [r, at] of t.reconnects.entries()) {
      reconnects += 1;
      let worst = 0;
      let complete = true;
      for (const a of mine) {
        if (a.at >= at) continue;
        const handedAt = t.handed.get(a.k);
        if (handedAt === undefined) complete = false;
        else worst = Math.max(worst, handedAt - at);
      }
      if (complete) {
        replayMs.push(Math.round(worst));
        // Over the target: was this process's own loop lagging meanwhile, or did the client wait on the server?
        if (worst > SLOW_REPLAY_MS) slowReplays.push({ at: Math.round(at), ms: Math.round(worst), awayMs: Math.round(t.awayMs[r] ?? 0), admin: t.user.admin, loopMaxMs: loopMaxBetween(at, at + worst), downAgain: t.downs.some((d) => d > at && d < at + worst) });
      } else replaysIncomplete += 1;
    }
  }
  return { clients: clients.length, expected, delivered, duplicates, unexpected, reconnects, replaysIncomplete, replayMs, slowReplays, loopMaxBySecond: Object.fromEntries(loopMaxBySecond), cpuBySecond: Object.fromEntries(cpuBySecond), handedBySecond, longestDownMs: Math.round(longestDownMs), downNow, stopped, downReasons, clientsReset, resetReasons, missing, otherMissing, resetClients };
}

async function closeAll() {
  const count = clients.length;
  for (const t of clients) t.close();
  clients = [];
  expectation = null;
  downReasons = {};
  resetReasons = {};
  await sleep(Math.min(3000, 200 + count / 20));
  return { closed: count };
}

/** @type {Record<string, (c: any) => unknown>} */
const COMMANDS = {
  open,
  publish,
  stopPublish: () => {
    stopPublishing = true;
    return null;
  },
  stats,
  recover,
  expect,
  progress,
  report,
  closeAll,
};

process.on('message', async (/** @type {any} */ message) => {
  if (!message || typeof message.id !== 'number') return;
  if (message.cmd === 'exit') {
    await closeAll().catch(() => undefined);
    process.send?.({ id: message.id, ok: true, result: null });
    setTimeout(() => process.exit(0), 50);
    return;
  }
  const handler = COMMANDS[message.cmd];
  if (!handler) return process.send?.({ id: message.id, ok: false, error: `unknown command ${message.cmd}` });
  try {
    process.send?.({ id: message.id, ok: true, result: await handler(message.args ?? {}) });
  } catch (error) {
    process.send?.({ id: message.id, ok: false, error: error instanceof Error ? error.stack : String(error) });
  }
});
process.on('disconnect', () => process.exit(0));
process.on('SIGINT', () => process.exit(130));
process.send?.({ type: 'ready', gen: NAME, pid: process.pid });
