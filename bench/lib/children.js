'use strict';
/**
 * Child processes of the bench: servers and load generators. Every child is started through
 * `bash -c 'ulimit -n …; exec node …'` so it gets the highest open-file limit the machine
 * allows (Node has no setrlimit), is tracked, and is killed when the bench exits by any path.
 */

const { spawn } = require('node:child_process');
const { openSync, closeSync, readFileSync } = require('node:fs');
const net = require('node:net');
const http = require('node:http');
const { sleep } = require('./util.js');

/** Asks for a million, settles for the hard limit: raising the hard limit needs CAP_SYS_RESOURCE. */
const RAISE_NOFILE = 'ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"';

/** @type {Set<import('node:child_process').ChildProcess>} */
const live = new Set();
/** Set once the bench is shutting down: nothing new may start after that. */
let shuttingDown = false;

/**
 * @param {{ name: string, script: string, args?: string[], nodeArgs?: string[], env: NodeJS.ProcessEnv,
 *   cwd: string, logFile: string, ipc?: boolean }} options
 */
function spawnNode(options) {
  if (shuttingDown) throw new Error(`not starting ${options.name}: the bench is shutting down`);
  const log = openSync(options.logFile, 'a');
  const child = spawn(
    'bash',
    ['-c', RAISE_NOFILE, 'bash', process.execPath, ...(options.nodeArgs ?? []), options.script, ...(options.args ?? [])],
    {
      cwd: options.cwd,
      env: options.env,
      stdio: options.ipc ? ['ignore', log, log, 'ipc'] : ['ignore', log, log],
    },
  );
  closeSync(log);
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** Polite stop, then SIGKILL after `graceMs`. Resolves once the child is gone. @param {import('node:child_process').ChildProcess} child */
async function stopChild(child, graceMs = 12_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const killed = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!killed) {
    child.kill('SIGKILL');
    await Promise.race([exited, sleep(2000)]);
  }
}

/** Last resort, synchronous (process 'exit' handler): SIGKILL whatever is still running. */
function killAllSync() {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Stops every child and refuses to start new ones. */
async function shutdown() {
  shuttingDown = true;
  await stopAll();
}

async function stopAll() {
  await Promise.all([...live].map((child) => stopChild(child, 8000)));
}

/** A free TCP port on 127.0.0.1. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {net.AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

/** GET a URL, resolve with the status (0 on a network error). @param {string} url @param {number} timeoutMs */
function httpStatus(url, timeoutMs = 2000) {
  return new Promise((resolve) => {
    const request = http.get(url, { timeout: timeoutMs, agent: false }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(0));
  });
}

/**
 * Polls `url` until it answers 200; fails when the child exits or after `timeoutMs`.
 * @param {import('node:child_process').ChildProcess} child @param {string} url @param {number} timeoutMs @param {string} logFile
 */
async function waitReady(child, url, timeoutMs, logFile) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${url}: server exited (${child.exitCode ?? child.signalCode}) before ready; log tail:\n${tail(logFile)}`);
    }
    if ((await httpStatus(url, 1000)) === 200) return;
    await sleep(200);
  }
  throw new Error(`${url}: not ready within ${timeoutMs} ms; log tail:\n${tail(logFile)}`);
}

/** @param {string} file */
function tail(file, lines = 15) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Resident set size of a process in KiB, from /proc/<pid>/status. @param {number} pid */
function rssKB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]);
}

let clockTicks = 0;
/**
 * CPU time (user + system) a process has used, in ms, from /proc/<pid>/stat: comparable across
 * runs even when other work competes for the cores, unlike wall-clock rates.
 * @param {number} pid
 */
function cpuMs(pid) {
  if (!clockTicks) {
    try {
      clockTicks = Number(require('node:child_process').execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After "pid (comm) ": state is field 3, utime 14, stime 15.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
}

/** The soft open-file limit a process actually runs with. @param {number} pid */
function openFileLimit(pid) {
  try {
    const match = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
    return match ? { soft: match[1], hard: match[2] } : null;
  } catch {
    return null;
  }
}

/**
 * A child driven over IPC: `call(cmd, args)` resolves with the child's answer.
 * @param {import('node:child_process').ChildProcess} child @param {string} name
 * @param {(message: any) => void} onProgress
 */
function ipcClient(child, name, onProgress) {
  let nextId = 1;
  /** @type {Map<number, { resolve: (v: any) => void, reject: (e: Error) => void }>} */
  const waiting = new Map();
  /** @type {(v?: unknown) => void} */
  let markReady = () => undefined;
  const ready = new Promise((resolve) => (markReady = resolve));
  child.on('message', (/** @type {any} */ message) => {
    if (message?.type === 'ready') return markReady(message);
    if (message?.type === 'progress') return onProgress(message);
    const entry = waiting.get(message?.id);
    if (!entry) return;
    waiting.delete(message.id);
    // The command is over: its last progress report is stale.
    onProgress({ type: 'done', gen: name });
    if (message.ok) entry.resolve(message.result);
    else entry.reject(new Error(`${name}: ${message.error}`));
  });
  child.once('exit', (code, signal) => {
    for (const entry of waiting.values()) entry.reject(new Error(`${name} exited (${code ?? signal})`));
    waiting.clear();
  });
  return {
    name,
    child,
    ready,
    /** @param {string} cmd @param {object} [args] @param {number} [timeoutMs] */
    call(cmd, args = {}, timeoutMs = 120_000) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new Error(`${name}: ${cmd} did not answer within ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.set(id, {
          resolve: (value) => {
            clearTimeout(timer);
            resolve(value);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        });
        if (!child.connected) {
          clearTimeout(timer);
          waiting.delete(id);
          reject(new Error(`${name} is not connected`));
          return;
        }
        child.send({ id, cmd, args });
      });
    },
  };
}

/**
 * The inspector URL a child started with `--inspect=127.0.0.1:0` printed to its log.
 * @param {string} logFile @param {number} timeoutMs
 */
async function inspectorUrl(logFile, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const matches = [...tail(logFile, 200).matchAll(/Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/[\w-]+)/g)];
    if (matches.length > 0) return matches[matches.length - 1][1];
    await sleep(100);
  }
  throw new Error(`no inspector URL in ${logFile}`);
}

/**
 * A session on a child's inspector, opened once while the child still has file descriptors to
 * spare (a server at its open-file limit cannot accept a new one). `gc()` runs full garbage
 * collections and returns the process's own memory figures: what connections keep, without the
 * garbage a burst of handshakes leaves behind.
 * @param {string} url ws://… of the inspector
 * @param {number} [timeoutMs] how long one call may take
 */
async function openInspector(url, timeoutMs = 30_000) {
  const WebSocket = require('ws');
  const socket = new WebSocket(url);
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('inspector: no connection within 5 s')), 5000);
    socket.once('open', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
  socket.on('error', () => undefined);
  let nextId = 0;
  /** @param {string} method @param {object} [params] @returns {Promise<any>} */
  const call = (method, params = {}) =>
    new Promise((resolve, reject) => {
      if (socket.readyState !== WebSocket.OPEN) return reject(new Error('inspector: session closed'));
      const id = ++nextId;
      const timer = setTimeout(() => reject(new Error(`inspector: ${method} timed out after ${timeoutMs / 1000} s`)), timeoutMs);
      const onMessage = (/** @type {Buffer} */ raw) => {
        const message = JSON.parse(raw.toString());
        if (message.id !== id) return;
        socket.off('message', onMessage);
        clearTimeout(timer);
        if (message.error) reject(new Error(`inspector: ${method}: ${message.error.message}`));
        else resolve(message.result);
      };
      socket.on('message', onMessage);
      socket.send(JSON.stringify({ id, method, params }));
    });
  return {
    call,
    /** @param {(message: any) => void} listener every message of the session, events included */
    onMessage: (listener) => socket.on('message', (/** @type {Buffer} */ raw) => listener(JSON.parse(raw.toString()))),
    /**
     * V8 heap in use after GC, and the `external` of process.memoryUsage() — null when the child
     * cannot answer it (at its open-file limit it cannot open /proc/self/stat).
     * @returns {Promise<{ heapUsed: number, external: number | null }>}
     */
    async gc() {
      await call('HeapProfiler.collectGarbage');
      await call('HeapProfiler.collectGarbage');
      await sleep(500);
      const heap = await call('Runtime.getHeapUsage');
      const usage = await call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true });
      const value = usage?.result?.value;
      return { heapUsed: heap.usedSize, external: typeof value === 'string' ? JSON.parse(value).external : null };
    },
    close() {
      socket.close();
    },
  };
}

module.exports = { spawnNode, stopChild, stopAll, shutdown, killAllSync, freePort, httpStatus, waitReady, rssKB, openFileLimit, ipcClient, tail, inspectorUrl, openInspector, cpuMs };
