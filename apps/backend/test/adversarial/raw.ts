import { connect as tcpConnect } from 'node:net';
import WebSocket from 'ws';
import { ALLOWED_ORIGIN } from '../support/test-app';
import { call, type Reply } from './http';

/**
 * Clients below socket.io-client: raw engine.io websockets, raw polling requests and raw HTTP
 * bytes over TCP. An attacker is not bound by what the official client would send.
 */

export const NS = '/notifications';

export interface RawClose {
  code: number;
  reason: string;
  /** ms since the websocket opened. */
  afterMs: number;
}

export interface RawEngine {
  readonly ws: WebSocket;
  /** Every frame received, text frames as strings. */
  readonly frames: (string | Buffer)[];
  /** The engine.io session id from the open packet. */
  readonly sid: string;
  readonly openedAt: number;
  /** Resolves when the connection closes, whoever closed it. */
  readonly closed: Promise<RawClose>;
  isClosed(): boolean;
  send(frame: string | Buffer): void;
  /** The first frame (received already or later) matching `match`. */
  waitFor(match: (frame: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Joins a namespace with `auth`; resolves with the server's answer frame (`40…` or `44…`). */
  join(auth: object | undefined, namespace?: string, timeoutMs?: number): Promise<string>;
  /** Drops the TCP connection at once. */
  destroy(): void;
}

export interface RawEngineOptions {
  origin?: string | null;
  /** Answer the server's engine.io pings (`2` → `3`). Default true. */
  autoPong?: boolean;
  headers?: Record<string, string>;
}

/** A websocket straight to engine.io; resolves once the engine.io open packet arrived. */
export function openRawEngine(url: string, options: RawEngineOptions = {}): Promise<RawEngine> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.origin !== null) headers.origin = options.origin ?? ALLOWED_ORIGIN;
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`, { headers, perMessageDeflate: false });
  const frames: (string | Buffer)[] = [];
  const listeners = new Set<() => void>();
  const autoPong = options.autoPong ?? true;
  let closedFlag = false;
  let openedAt = Date.now();
  const closed = new Promise<RawClose>((resolve) => {
    ws.on('close', (code, reason) => {
      closedFlag = true;
      resolve({ code, reason: reason.toString(), afterMs: Date.now() - openedAt });
      for (const listener of [...listeners]) listener();
    });
  });
  ws.on('error', () => undefined);
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const frame = isBinary ? data : data.toString();
    frames.push(frame);
    if (autoPong && frame === '2' && ws.readyState === WebSocket.OPEN) ws.send('3');
    for (const listener of [...listeners]) listener();
  });

  const waitFor = (match: (frame: string) => boolean, timeoutMs = 3000): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const found = frames.find((frame): frame is string => typeof frame === 'string' && match(frame));
        if (found !== undefined) {
          done();
          resolve(found);
        } else if (closedFlag) {
          done();
          reject(new Error(`connection closed before the expected frame; got ${JSON.stringify(frames.map(String).slice(-5))}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(frames.map(String).slice(-5))}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });

  return new Promise((resolve, reject) => {
    ws.once('unexpected-response', (_request, response) => {
      response.resume();
      reject(new Error(`upgrade refused with ${response.statusCode}`));
    });
    ws.once('open', () => {
      openedAt = Date.now();
    });
    waitFor((frame) => frame.startsWith('0{'), 5000).then(
      (open) => {
        const { sid } = JSON.parse(open.slice(1)) as { sid: string };
        resolve({
          ws,
          frames,
          sid,
          get openedAt() {
            return openedAt;
          },
          closed,
          isClosed: () => closedFlag,
          send: (frame) => {
            if (ws.readyState === WebSocket.OPEN) ws.send(frame);
          },
          waitFor,
          join: (auth, namespace = NS, timeoutMs = 3000) => {
            const prefix = namespace === '/' ? '' : `${namespace},`;
            ws.send(`40${prefix}${auth === undefined ? '' : JSON.stringify(auth)}`);
            return waitFor((frame) => frame.startsWith(`40${prefix}`) || frame.startsWith(`44${prefix}`), timeoutMs);
          },
          destroy: () => ws.terminate(),
        } as RawEngine);
      },
      (error: unknown) => {
        ws.terminate();
        reject(error as Error);
      },
    );
  });
}

/** A raw engine.io websocket already in /notifications with `token`. */
export async function rawJoined(url: string, token: string, options: RawEngineOptions = {}): Promise<RawEngine> {
  const raw = await openRawEngine(url, options);
  const answer = await raw.join({ token });
  if (!answer.startsWith(`40${NS},`)) {
    raw.destroy();
    throw new Error(`namespace join refused: ${answer}`);
  }
  return raw;
}

export interface RawResponse {
  status: number;
  /** Lower-cased header names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: string;
  /** True when the server closed the TCP connection. */
  closedByServer: boolean;
}

/**
 * Sends `request` byte for byte over a fresh TCP connection and reads one response: the status
 * line and headers, then the body (Content-Length, or until close). A 101 or an event stream is
 * returned as soon as its headers are in; the connection is then dropped.
 */
export function rawHttp(url: string, request: string | Buffer, timeoutMs = 5000): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(Number(port), hostname);
    let buffer = Buffer.alloc(0);
    let settled = false;
    let closedByServer = false;
    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) return reject(error);
      const parsed = parse();
      if (!parsed) return reject(new Error(`no HTTP response: ${JSON.stringify(buffer.toString('latin1').slice(0, 200))}`));
      resolve({ ...parsed, closedByServer });
    };
    const parse = (): Omit<RawResponse, 'closedByServer'> | null => {
      const end = buffer.indexOf('\r\n\r\n');
      if (end === -1) return null;
      const [statusLine, ...lines] = buffer.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).trim().toLowerCase();
        const value = line.slice(colon + 1).trim();
        headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
      }
      const rest = buffer.subarray(end + 4);
      return { status, headers, body: headers['transfer-encoding'] === 'chunked' ? dechunk(rest) : rest.toString('utf8') };
    };
    const complete = (): boolean => {
      const parsed = parse();
      if (!parsed) return false;
      if (parsed.status === 101 || (parsed.headers['content-type'] ?? '').startsWith('text/event-stream')) return true;
      const length = parsed.headers['content-length'];
      if (length !== undefined) return Buffer.byteLength(parsed.body) >= Number(length);
      if (parsed.headers['transfer-encoding'] === 'chunked') return buffer.subarray(buffer.indexOf('\r\n\r\n') + 4).toString('latin1').endsWith('0\r\n\r\n');
      return false;
    };
    const timer = setTimeout(() => finish(parse() ? undefined : new Error(`no complete response within ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (complete()) finish();
    });
    socket.on('end', () => {
      closedByServer = true;
      finish();
    });
    socket.on('close', () => {
      closedByServer = true;
      finish();
    });
    socket.on('error', (error) => {
      // A reset after a complete response still counts as that response.
      if (parse()) {
        closedByServer = true;
        finish();
      } else finish(error);
    });
    socket.write(request);
  });
}

/** The payload of a chunked body (complete or not). */
function dechunk(raw: Buffer): string {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset < raw.length) {
    const lineEnd = raw.indexOf('\r\n', offset);
    if (lineEnd === -1) break;
    const size = parseInt(raw.subarray(offset, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts).toString('utf8');
}

/** `GET path` with raw header lines (repeats allowed), HTTP/1.1, Connection: close. */
export function rawRequest(url: string, method: string, path: string, headerLines: string[], body?: string): string {
  const { host } = new URL(url);
  const lines = [`${method} ${path} HTTP/1.1`, `Host: ${host}`, ...headerLines];
  if (body !== undefined) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  if (!headerLines.some((line) => /^connection:/i.test(line))) lines.push('Connection: close');
  return `${lines.join('\r\n')}\r\n\r\n${body ?? ''}`;
}

/** The websocket upgrade request engine.io expects, with raw header lines. */
export function rawUpgrade(url: string, headerLines: string[]): string {
  return rawRequest(url, 'GET', '/socket.io/?EIO=4&transport=websocket', [
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Version: 13',
    `Sec-WebSocket-Key: ${Buffer.from('adversarial-key!').toString('base64')}`,
    ...headerLines,
  ]);
}

/** An engine.io polling handshake; `sid` when the server opened a session. */
export async function pollingHandshake(url: string, origin?: string | null): Promise<{ status: number; text: string; headers: Reply['headers']; sid?: string }> {
  const reply = await call(url, '/socket.io/?EIO=4&transport=polling', { origin });
  const sid = reply.text.startsWith('0{') ? (JSON.parse(reply.text.slice(1)) as { sid: string }).sid : undefined;
  return { status: reply.status, text: reply.text, headers: reply.headers, sid };
}

/** One polling request (GET to read, POST to write) on an existing engine.io session. */
export async function poll(url: string, sid: string, body?: string, timeoutMs = 3000): Promise<{ status: number; text: string }> {
  const reply = await call(url, `/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`, {
    method: body === undefined ? 'GET' : 'POST',
    body,
    headers: body === undefined ? {} : { 'content-type': 'text/plain;charset=UTF-8' },
    timeoutMs,
  });
  return { status: reply.status, text: reply.text };
}
