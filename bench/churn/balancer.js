'use strict';
/**
 * Child process of the churn scenario: a round-robin TCP balancer in front of the two instances,
 * as a deploy would have (one node of the balancer tier: the scenario starts as many as the
 * open-file limit needs). A backend that refuses a connection, or does not accept one within
 * 5 s, is skipped for the next. The scenario plays the health checks: `backends {ports}` drops a
 * stopping instance and adds a started one once it is ready. Driven over IPC: `backends {ports}`,
 * `cut {share}` (drops a random share of the open
 * connections, both sides at once, like a dropped network), `counts`.
 */

const net = require('node:net');
const { monitorEventLoopDelay } = require('node:perf_hooks');

// Every byte of every client passes through this one process: is it a bottleneck itself?
const loopDelay = monitorEventLoopDelay({ resolution: 20 });
loopDelay.enable();
let cpuSince = process.cpuUsage();
let since = Date.now();

/** How long a connect to a backend may take before the next backend is tried (HAProxy's `timeout connect` is often 5 s). */
const CONNECT_TIMEOUT_MS = 5000;

/** @type {number[]} */
let backends = [];
let next = 0;
/** client socket → { upstream, port } */
const open = new Map();
/**
 * Why connections to a backend failed, by error code: ECONNREFUSED is an instance restarting;
 * EMFILE is this process at its open-file limit (two descriptors per proxied connection), which
 * would make the harness, not the gateway, refuse clients.
 * @type {Record<string, number>}
 */
let upstreamErrors = {};

/** @param {net.Socket} client @param {number} tried */
function route(client, tried) {
  if (tried >= backends.length) return client.destroy();
  const port = backends[next];
  next = (next + 1) % backends.length;
  client.pause();
  const upstream = net.connect(port, '127.0.0.1');
  let failed = false;
  const refused = (/** @type {NodeJS.ErrnoException} */ error) => {
    if (failed) return;
    failed = true;
    const code = error.code ?? 'unknown';
    upstreamErrors[code] = (upstreamErrors[code] ?? 0) + 1;
    upstream.destroy();
    if (!client.destroyed) route(client, tried + 1);
  };
  upstream.once('error', refused);
  // A backend too busy to accept leaves the connect pending for minutes (SYN retries): give up
  // after CONNECT_TIMEOUT_MS and try the next, as a deploy's balancer does. Without it the
  // pending pairs held two descriptors each until this process ran out (EMFILE, session 6).
  upstream.setTimeout(CONNECT_TIMEOUT_MS, () => refused(Object.assign(new Error('connect timeout'), { code: 'CONNECT_TIMEOUT' })));
  upstream.once('connect', () => {
    upstream.off('error', refused);
    upstream.setTimeout(0);
    open.set(client, { upstream, port });
    const end = () => {
      open.delete(client);
      upstream.destroy();
      client.destroy();
    };
    for (const socket of [client, upstream]) {
      socket.on('error', end);
      socket.on('close', end);
    }
    client.pipe(upstream).pipe(client);
    client.resume();
  });
  client.once('error', () => upstream.destroy());
  // The client gave up while its upstream was still connecting: nothing else would release the
  // upstream (it held a descriptor, and once connected counted as proxied, for good).
  client.once('close', () => {
    if (!open.has(client)) upstream.destroy();
  });
}

const server = net.createServer((client) => route(client, 0));
server.maxConnections = 1_000_000;
server.on('error', (/** @type {NodeJS.ErrnoException} */ error) => {
  const code = `accept ${error.code ?? 'unknown'}`;
  upstreamErrors[code] = (upstreamErrors[code] ?? 0) + 1;
});

/** @param {{ share: number }} c */
function cut(c) {
  const list = [...open.keys()];
  const count = Math.round(list.length * c.share);
  for (let i = 0; i < count && list.length > 0; i++) {
    const [client] = list.splice(Math.floor(Math.random() * list.length), 1);
    open.get(client)?.upstream.destroy();
    client.destroy();
  }
  return { cut: count };
}

function counts() {
  /** @type {Record<string, number>} */
  const out = Object.fromEntries(backends.map((port) => [String(port), 0]));
  for (const { port } of open.values()) out[String(port)] = (out[String(port)] ?? 0) + 1;
  return out;
}

/** @type {Record<string, (c: any) => unknown>} */
const COMMANDS = {
  backends: (c) => {
    backends = c.ports;
    next = 0;
    return null;
  },
  cut,
  counts,
  /** Its own CPU and event-loop delay since the last call (`reset` starts a new window). */
  load: () => {
    const cpu = process.cpuUsage(cpuSince);
    const out = { cpuCores: Math.round(((cpu.user + cpu.system) / 1000 / Math.max(1, Date.now() - since)) * 100) / 100, loopDelayMs: { p99: Math.round(loopDelay.percentile(99) / 1e6), max: Math.round(loopDelay.max / 1e6) }, upstreamErrors, proxied: open.size };
    loopDelay.reset();
    upstreamErrors = {};
    cpuSince = process.cpuUsage();
    since = Date.now();
    return out;
  },
};

process.on('message', (/** @type {any} */ message) => {
  if (!message || typeof message.id !== 'number') return;
  if (message.cmd === 'exit') {
    process.send?.({ id: message.id, ok: true, result: null });
    setTimeout(() => process.exit(0), 50);
    return;
  }
  const handler = COMMANDS[message.cmd];
  if (!handler) return process.send?.({ id: message.id, ok: false, error: `unknown command ${message.cmd}` });
  process.send?.({ id: message.id, ok: true, result: handler(message.args ?? {}) });
});
process.on('disconnect', () => process.exit(0));

server.listen(0, '127.0.0.1', () => {
  process.send?.({ type: 'ready', port: /** @type {net.AddressInfo} */ (server.address()).port });
});
