import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { sign, type SignOptions } from 'jsonwebtoken';
import type { NotificationView, StreamTicketResponse } from '@notify-gateway/contracts';
import { http, parseBody } from './http';
import { ALLOWED_ORIGIN, TEST_JWT_SECRET } from './test-app';
import { demoUser, sql, type DemoEmail } from './users';

export interface SseMessage {
  event: string;
  id?: string;
  data: unknown;
}

export interface StreamOptions {
  token?: string;
  ticket?: string;
  lastEventId?: string;
  /** null: no Origin header. */
  origin?: string | null;
  query?: Record<string, string>;
  headers?: Record<string, string>;
}

/** A streaming fetch client for GET /notifications/stream with a minimal SSE parser. */
export interface StreamClient {
  status: number;
  headers: Headers;
  /** The parsed JSON body of a refused request. */
  body: unknown;
  messages: SseMessage[];
  comments: string[];
  retry?: number;
  /** Resolves when the server ends the stream (or the request was refused). */
  ended: Promise<void>;
  isEnded(): boolean;
  /** Resolves with the first message (already received or future) that matches. */
  waitFor(match: (message: SseMessage) => boolean, timeoutMs?: number): Promise<SseMessage>;
  /** Resolves once `count` messages match. */
  waitForCount(match: (message: SseMessage) => boolean, count: number, timeoutMs?: number): Promise<SseMessage[]>;
  close(): void;
}

export function streamUrl(base: string, options: Pick<StreamOptions, 'ticket' | 'query'> = {}): string {
  const url = new URL(`${base}/notifications/stream`);
  if (options.ticket !== undefined) url.searchParams.set('ticket', options.ticket);
  for (const [name, value] of Object.entries(options.query ?? {})) url.searchParams.set(name, value);
  return url.toString();
}

function requestHeaders(options: StreamOptions): Record<string, string> {
  const headers: Record<string, string> = { accept: 'text/event-stream', ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.lastEventId !== undefined) headers['last-event-id'] = options.lastEventId;
  if (options.origin !== null) headers.origin = options.origin ?? ALLOWED_ORIGIN;
  return headers;
}

export async function openStream(base: string, options: StreamOptions = {}): Promise<StreamClient> {
  const abort = new AbortController();
  const response = await fetch(streamUrl(base, options), { headers: requestHeaders(options), signal: abort.signal });
  const messages: SseMessage[] = [];
  const comments: string[] = [];
  const listeners = new Set<() => void>();
  let ended = false;
  let retry: number | undefined;
  let body: unknown;
  let finish!: () => void;
  const endedPromise = new Promise<void>((resolve) => (finish = resolve));
  const markEnded = (): void => {
    ended = true;
    finish();
    for (const listener of listeners) listener();
  };

  if (response.status !== 200 || !response.body) {
    body = parseBody(await response.text());
    markEnded();
  } else {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    let event: Partial<SseMessage> & { dataLines: string[] } = { dataLines: [] };
    const dispatch = (): void => {
      if (event.dataLines.length > 0) {
        const raw = event.dataLines.join('\n');
        let data: unknown = raw;
        try {
          data = JSON.parse(raw);
        } catch {
          // not JSON
        }
        messages.push({ event: event.event ?? 'message', id: event.id, data });
        for (const listener of listeners) listener();
      }
      event = { dataLines: [] };
    };
    const parseLine = (line: string): void => {
      if (line === '') return dispatch();
      if (line.startsWith(':')) {
        comments.push(line.slice(1).trim());
        return;
      }
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event.event = value;
      else if (field === 'id') event.id = value;
      else if (field === 'data') event.dataLines.push(value);
      else if (field === 'retry') retry = Number(value);
    };
    void (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let newline: number;
          while ((newline = buffer.indexOf('\n')) !== -1) {
            parseLine(buffer.slice(0, newline).replace(/\r$/, ''));
            buffer = buffer.slice(newline + 1);
          }
        }
      } catch {
        // aborted or reset
      }
      markEnded();
    })();
  }

  const waitForCount = (match: (message: SseMessage) => boolean, count: number, timeoutMs = 5000): Promise<SseMessage[]> =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = messages.filter(match);
        if (found.length >= count) {
          cleanup();
          resolve(found.slice(0, count));
          return true;
        }
        if (ended) {
          cleanup();
          reject(new Error(`stream ended with ${found.length}/${count} matching messages`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`only ${messages.filter(match).length}/${count} matching messages within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = (): void => void check();
      const cleanup = (): void => {
        clearTimeout(timer);
        listeners.delete(listener);
      };
      listeners.add(listener);
      check();
    });

  return {
    status: response.status,
    headers: response.headers,
    body,
    messages,
    comments,
    get retry() {
      return retry;
    },
    ended: endedPromise,
    isEnded: () => ended,
    waitForCount,
    waitFor: async (match, timeoutMs) => (await waitForCount(match, 1, timeoutMs))[0],
    close: () => abort.abort(),
  };
}

/** The notifications (event notification:new) of a stream, optionally only those whose title contains `tag`. */
export function notificationsOf(messages: SseMessage[], tag?: string): NotificationView[] {
  return messages
    .filter((message) => message.event === 'notification:new')
    .map((message) => message.data as NotificationView)
    .filter((view) => tag === undefined || view.title.includes(tag));
}

export const isNotification =
  (tag: string) =>
  (message: SseMessage): boolean =>
    message.event === 'notification:new' && (message.data as NotificationView).title.includes(tag);

export async function mintTicket(base: string, token: string): Promise<string> {
  const response = await http<StreamTicketResponse>(`${base}/notifications/stream-ticket`, { method: 'POST', token });
  if (response.status !== 200) throw new Error(`stream-ticket answered ${response.status}`);
  return response.body.ticket;
}

export interface TestUser {
  id: string;
  email: string;
  tenantId: string;
  token(options?: SignOptions): string;
}

/**
 * A USER of the tenant of `tenantOf`, created for one test: notifications aimed at it never
 * show up in another spec's view of the demo users, however many a test publishes.
 */
export async function freshUser(tenantOf: DemoEmail): Promise<TestUser> {
  const { tenantId } = await demoUser(tenantOf);
  const email = `sse-${randomUUID()}@sse.test`;
  const [row] = await sql<{ id: string }>(
    `INSERT INTO users (id, email, password_hash, role, is_active, tenant_id, updated_at)
     VALUES (gen_random_uuid(), $1, '!', 'USER', true, $2, now()) RETURNING id`,
    [email, tenantId],
  );
  return {
    id: row.id,
    email,
    tenantId,
    token: (options = {}) => sign({ sub: row.id }, TEST_JWT_SECRET, { algorithm: 'HS256', expiresIn: 900, ...options }),
  };
}

/** POST /notifications as an admin; resolves with the persisted notification. */
export async function postNotification(base: string, adminToken: string, body: Record<string, unknown>): Promise<NotificationView> {
  const response = await http<NotificationView>(`${base}/notifications`, { token: adminToken, body });
  if (response.status !== 201) throw new Error(`POST /notifications answered ${response.status}: ${response.text}`);
  return response.body;
}

const SSE_EVENT_NAMES = ['notification:new', 'notification:read', 'notification:session-expiring'];

/** A real `eventsource` (v5) EventSource, run in a worker thread (see eventsource-worker.mjs). */
export interface EventSourceClient {
  messages: SseMessage[];
  errors: { code: number | null; message: string | null; readyState: number }[];
  /** 0 connecting, 1 open, 2 closed: as last reported by the worker. */
  readyState(): number;
  /** Resolves on the first open; rejects if the first connection fails. */
  opened(timeoutMs?: number): Promise<void>;
  waitForCount(match: (message: SseMessage) => boolean, count: number, timeoutMs?: number): Promise<SseMessage[]>;
  /** Resolves when the worker reports an error event (the stream failed or ended). */
  nextError(timeoutMs?: number): Promise<{ code: number | null; message: string | null; readyState: number }>;
  close(): void;
}

type WorkerReport =
  | { type: 'open'; readyState: number }
  | { type: 'error'; code: number | null; message: string | null; readyState: number }
  | { type: 'event'; event: string; data: string; lastEventId: string; readyState: number }
  | { type: 'closed'; readyState: number };

export function eventSource(base: string, options: StreamOptions = {}, events: string[] = SSE_EVENT_NAMES): EventSourceClient {
  const headers = requestHeaders(options);
  delete headers.accept;
  const worker = new Worker(join(__dirname, 'eventsource-worker.mjs'), { workerData: { url: streamUrl(base, options), headers, events } });
  const messages: SseMessage[] = [];
  const errors: { code: number | null; message: string | null; readyState: number }[] = [];
  const listeners = new Set<(report: WorkerReport) => void>();
  let readyState = 0;
  let openedOnce = false;
  worker.on('message', (report: WorkerReport) => {
    readyState = report.readyState;
    if (report.type === 'open') openedOnce = true;
    if (report.type === 'error') errors.push({ code: report.code, message: report.message, readyState: report.readyState });
    if (report.type === 'event') {
      let data: unknown = report.data;
      try {
        data = JSON.parse(report.data);
      } catch {
        // not JSON
      }
      messages.push({ event: report.event, id: report.lastEventId || undefined, data });
    }
    for (const listener of [...listeners]) listener(report);
  });
  const until = <T>(check: (report?: WorkerReport) => T | undefined, timeoutMs: number, what: () => string): Promise<T> =>
    new Promise((resolve, reject) => {
      const listener = (report?: WorkerReport): void => {
        let result: T | undefined;
        try {
          result = check(report);
        } catch (error) {
          done();
          reject(error as Error);
          return;
        }
        if (result === undefined) return;
        done();
        resolve(result);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(what()));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        listeners.delete(listener);
      };
      listeners.add(listener);
      listener();
    });
  return {
    messages,
    errors,
    readyState: () => readyState,
    opened: (timeoutMs = 5000) =>
      until(
        (report) => {
          if (openedOnce) return true;
          if (report?.type === 'error') throw new Error(`EventSource failed: ${report.code ?? ''} ${report.message ?? ''}`);
          return undefined;
        },
        timeoutMs,
        () => 'EventSource did not open',
      ).then(() => undefined),
    waitForCount: (match, count, timeoutMs = 5000) =>
      until(
        () => {
          const found = messages.filter(match);
          return found.length >= count ? found.slice(0, count) : undefined;
        },
        timeoutMs,
        () => `only ${messages.filter(match).length}/${count} events within ${timeoutMs} ms`,
      ),
    nextError: (timeoutMs = 5000) =>
      until((report) => (report?.type === 'error' ? { code: report.code, message: report.message, readyState: report.readyState } : undefined), timeoutMs, () => 'no error event'),
    close: () => {
      worker.postMessage({ type: 'close' });
      void worker.terminate();
    },
  };
}
