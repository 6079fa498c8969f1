import { parseBody } from '../support/http';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { ALLOWED_ORIGIN } from '../support/test-app';

/**
 * HTTP without a connection pool: every request has its own TCP connection, closed when the
 * answer is in. A keep-alive pool would leave client sockets open between cases and blur the
 * handle counts the suite compares.
 */

export interface Reply {
  status: number;
  headers: IncomingMessage['headers'];
  text: string;
  /** Parsed JSON, or the text. */
  body: unknown;
}

export interface RequestOptions {
  method?: string;
  token?: string;
  /** Object → JSON; string → sent as is. */
  body?: unknown;
  headers?: Record<string, string>;
  /** null: no Origin header. */
  origin?: string | null;
  timeoutMs?: number;
  /** Source address of the request (`127.0.0.2`: another peer on this machine). */
  localAddress?: string;
}

export function call(base: string, path: string, options: RequestOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = { connection: 'close', ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.origin !== null) headers.origin ??= options.origin ?? ALLOWED_ORIGIN;
  let payload: string | undefined;
  if (options.body !== undefined) {
    payload = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method: options.method ?? (payload === undefined ? 'GET' : 'POST'), headers, agent: false, localAddress: options.localAddress }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const body = parseBody(text);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
      });
      res.on('error', reject);
    });
    req.setTimeout(options.timeoutMs ?? 10_000, () => req.destroy(new Error(`${path}: no answer within ${options.timeoutMs ?? 10_000} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

export interface SseMessage {
  event: string;
  id?: string;
  data: unknown;
}

export interface SseClient {
  status: number;
  headers: IncomingMessage['headers'];
  /** The body of a refused request (parsed JSON when it is JSON). */
  body: unknown;
  /** The raw text of a refused request. */
  text: string;
  messages: SseMessage[];
  isEnded(): boolean;
  ended: Promise<void>;
  /** Resolves once `match` holds for the messages received so far (checked on every message). */
  until(match: (messages: SseMessage[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): void;
}

export interface SseOptions {
  token?: string;
  /** Query string, without `?`. */
  query?: string;
  headers?: Record<string, string>;
  origin?: string | null;
}

/** GET /notifications/stream with a minimal text/event-stream parser. */
export function openSse(base: string, options: SseOptions = {}): Promise<SseClient> {
  const headers: Record<string, string> = { accept: 'text/event-stream', connection: 'close', ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.origin !== null) headers.origin ??= options.origin ?? ALLOWED_ORIGIN;
  const path = `/notifications/stream${options.query ? `?${options.query}` : ''}`;
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { headers, agent: false }, (res) => {
      const messages: SseMessage[] = [];
      const listeners = new Set<() => void>();
      let ended = false;
      let finish!: () => void;
      const endedPromise = new Promise<void>((done) => (finish = done));
      const markEnded = (): void => {
        if (ended) return;
        ended = true;
        finish();
        for (const listener of [...listeners]) listener();
      };
      const client = (body: unknown, text: string): SseClient => ({
        status: res.statusCode ?? 0,
        headers: res.headers,
        body,
        text,
        messages,
        isEnded: () => ended,
        ended: endedPromise,
        until: (match, timeoutMs = 5000) =>
          new Promise((done, fail) => {
            const check = (): void => {
              if (match(messages)) {
                cleanup();
                done();
              } else if (ended) {
                cleanup();
                fail(new Error(`stream ended; ${messages.length} messages`));
              }
            };
            const timer = setTimeout(() => {
              cleanup();
              fail(new Error(`stream: condition not met within ${timeoutMs} ms (${messages.length} messages)`));
            }, timeoutMs);
            const cleanup = (): void => {
              clearTimeout(timer);
              listeners.delete(check);
            };
            listeners.add(check);
            check();
          }),
        close: () => {
          req.destroy();
          res.destroy();
        },
      });
      res.on('close', markEnded);
      res.on('error', markEnded);
      if (res.statusCode !== 200) {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const body = parseBody(text);
          markEnded();
          resolve(client(body, text));
        });
        return;
      }
      let buffer = '';
      let current: { event?: string; id?: string; data: string[] } = { data: [] };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let newline: number;
        while ((newline = buffer.indexOf('\n')) !== -1) {
          const line = buffer.slice(0, newline).replace(/\r$/, '');
          buffer = buffer.slice(newline + 1);
          if (line === '') {
            if (current.data.length > 0) {
              const raw = current.data.join('\n');
              let data: unknown = raw;
              try {
                data = JSON.parse(raw);
              } catch {
                // not JSON
              }
              messages.push({ event: current.event ?? 'message', id: current.id, data });
              for (const listener of [...listeners]) listener();
            }
            current = { data: [] };
          } else if (!line.startsWith(':')) {
            const colon = line.indexOf(':');
            const field = colon === -1 ? line : line.slice(0, colon);
            const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'event') current.event = value;
            else if (field === 'id') current.id = value;
            else if (field === 'data') current.data.push(value);
          }
        }
      });
      resolve(client(undefined, ''));
    });
    req.on('error', reject);
    req.end();
  });
}
