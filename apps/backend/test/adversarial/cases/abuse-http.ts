import { randomUUID } from 'node:crypto';
import type { NotificationView, StreamTicketResponse } from '@notify-gateway/contracts';
import { PasswordHasher } from '../../../src/auth/password-hasher';
import { NotificationService } from '../../../src/notifications/notification.service';
import { sql } from '../../support/users';
import { startApp } from '../../support/test-app';
import { APP_JWT_ENV, createAccount, deleteAccount } from '../accounts';
import { hostile, type AttackContext, type HostileCase } from '../harness';
import { call, openSse, type Reply } from '../http';
import { ackOf, GENERIC } from './common';

/**
 * Abuse of the REST and SSE routes (docs/SECURITY.md lists the findings): per-user budgets on
 * create, list/sync, read-all, SSE tickets, connects and replays; the login lock an attacker
 * cannot put on another client's address; the in-memory ticket store; `data` keys named like
 * Object.prototype methods. Around each flood the harness's control keeps receiving; its socket
 * delivery p50/p99 during the case is printed (docs/SECURITY.md records the figures).
 */

/** The budgets the suite runs with (adversarial.e2e-spec.ts spreads these into its app env). */
export const ABUSE_HTTP_ENV: Record<string, string> = {
  HTTP_RATE_LIMIT_WINDOW: '60',
  // The control's publisher creates ~4/s plus two per case for the whole pass: far below this.
  HTTP_RATE_LIMIT_CREATE: '1000',
  HTTP_RATE_LIMIT_READ: '100',
  HTTP_RATE_LIMIT_MARK: '100',
  HTTP_RATE_LIMIT_READ_ALL: '10',
  HTTP_RATE_LIMIT_STREAM_TICKET: '20',
  HTTP_RATE_LIMIT_STREAM_CONNECT: '20',
  HTTP_RATE_LIMIT_STREAM_REPLAY: '5',
  LOGIN_RATE_LIMIT_PER_EMAIL_GLOBAL: '8',
};
const CREATE = 1000;
const READ = 100;
const READ_ALL = 10;
const TICKETS = 20;
const CONNECTS = 20;
const REPLAYS = 5;
const LOGIN_LOCK = 5; // LOGIN_RATE_LIMIT_PER_EMAIL in the suite
const LOGIN_GLOBAL = 8;

/** Runs `tasks` with at most `width` in flight; results in order. */
async function pool<T>(width: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, tasks.length) }, async () => {
      while (next < tasks.length) {
        const index = next++;
        results[index] = await tasks[index]();
      }
    }),
  );
  return results;
}

/** Status → how many answers had it. */
function tally(replies: { status: number }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const reply of replies) counts[reply.status] = (counts[reply.status] ?? 0) + 1;
  return counts;
}

/** Every 429 has the generic body and a positive Retry-After. */
function refusalsWellFormed(replies: Reply[]): boolean {
  const refused = replies.filter((reply) => reply.status === 429);
  return refused.length > 0 && refused.every((reply) => JSON.stringify(reply.body) === JSON.stringify(GENERIC[429]) && Number(reply.headers['retry-after']) > 0);
}

/** RATE_LIMIT_EXCEEDED lines for this principal during the case, by limit. */
function rateLimitLines(ctx: AttackContext, match: (entry: Record<string, unknown>) => boolean): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const entry of ctx.securityEvents('RATE_LIMIT_EXCEEDED').filter(match)) counts[String(entry.reason)] = (counts[String(entry.reason)] ?? 0) + 1;
  return counts;
}

/** Records when the control's sockets receive each notification during the case; prints p50/p99 at the end. */
function watchControl(ctx: AttackContext, label: string): void {
  const latencies: number[] = [];
  const onNew = (view: NotificationView): void => {
    latencies.push(Date.now() - Date.parse(view.createdAt));
  };
  const { socketA, socketB } = ctx.harness.control;
  socketA.on('notification:new', onNew);
  socketB.on('notification:new', onNew);
  ctx.defer(() => {
    socketA.off('notification:new', onNew);
    socketB.off('notification:new', onNew);
    const sorted = [...latencies].sort((x, y) => x - y);
    const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    process.stdout.write(`control socket delivery during "${label}": p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${sorted[sorted.length - 1] ?? 0} ms over ${sorted.length} deliveries\n`);
  });
}

async function ticketFor(ctx: AttackContext, token: string, base = ctx.a.url): Promise<Reply> {
  const reply = await call(base, '/notifications/stream-ticket', { method: 'POST', token });
  ctx.saw(reply.text);
  if (reply.status === 200) ctx.secret((reply.body as StreamTicketResponse).ticket);
  return reply;
}

/** Every name Object.prototype gives a plain object, with JSON values, and again one level down. */
const PROTOTYPE_NAMED: Record<string, unknown> = {
  toString: 'kept',
  valueOf: 1,
  hasOwnProperty: true,
  isPrototypeOf: null,
  propertyIsEnumerable: [1, 2],
  toLocaleString: { x: 1 },
  __defineGetter__: 'g',
  __defineSetter__: 's',
  __lookupGetter__: 'lg',
  __lookupSetter__: 'ls',
  nested: { toString: 'n', valueOf: { hasOwnProperty: 2 } },
};

/** Keys in sorted order at every level: PostgreSQL's jsonb reorders them, and pass 2 compares JSON text. */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value === null || typeof value !== 'object') return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) sorted[key] = sortedKeys((value as Record<string, unknown>)[key]);
  return sorted;
}
const PROTOTYPE_NAMED_SORTED = sortedKeys(PROTOTYPE_NAMED);

export const abuseHttpCases: HostileCase[] = [
  hostile({
    name: 'data keys named like Object.prototype methods (toString, valueOf, …) on REST and socket',
    category: 'http',
    response: 'kept verbatim: 201 / ack ok with exactly the data sent, read back the same (only __proto__, constructor, prototype are dropped)',
    expected: { rest: [201, PROTOTYPE_NAMED_SORTED], listed: PROTOTYPE_NAMED_SORTED, socket: PROTOTYPE_NAMED_SORTED },
    attack: async (ctx) => {
      watchControl(ctx, 'data keys (idle baseline)');
      const admin = await ctx.account('ADMIN');
      const title = `proto-named ${randomUUID()}`;
      const created = await ctx.http('/notifications', { token: admin.token(), body: { title, content: 'c', userId: admin.id, data: PROTOTYPE_NAMED } });
      const list = await ctx.http('/notifications?limit=5', { token: admin.token() });
      const listed = (list.body as { items?: NotificationView[] }).items?.find((item) => item.title === title)?.data;
      const socket = await ctx.socket({ token: admin.token() });
      const ack = (await ackOf(socket, 'notification:create', { title, content: 'c', userId: admin.id, data: PROTOTYPE_NAMED })) as { notification?: NotificationView };
      // A quiet stretch: the control's idle delivery figures, against which the floods are read.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      return { rest: [created.status, sortedKeys((created.body as NotificationView).data)], listed: sortedKeys(listed), socket: sortedKeys(ack.notification?.data ?? ack) };
    },
  }),
  hostile({
    name: 'REST create flood by one ADMIN',
    category: 'http',
    response: `limited: HTTP_RATE_LIMIT_CREATE (${CREATE}) requests per window, bad bodies included, then 429 RATE_LIMITED with Retry-After; one RATE_LIMIT_EXCEEDED line`,
    expected: { valid: { 201: 10 }, invalid: { 400: CREATE - 10 }, afterBudget: { 429: 20 }, refusals: true, stored: 10, logLines: { 'http-create': 1 } },
    timeoutMs: 40_000,
    attack: async (ctx) => {
      watchControl(ctx, 'REST create flood');
      const admin = await ctx.account('ADMIN');
      const token = admin.token();
      ctx.secret(token);
      const tag = `flood ${randomUUID()}`;
      const create = (body: unknown) => () => call(ctx.a.url, '/notifications', { token, body });
      const valid = await pool(10, Array.from({ length: 10 }, (_, i) => create({ title: `${tag} ${i}`, content: 'c', userId: admin.id })));
      // Refused by validation, but every request spends the budget: no free flood of bad bodies.
      const invalid = await pool(50, Array.from({ length: CREATE - 10 }, () => create({ title: '' })));
      const afterBudget = await pool(20, Array.from({ length: 20 }, (_, i) => create({ title: `${tag} late ${i}`, content: 'c', userId: admin.id })));
      ctx.saw(...afterBudget.map((reply) => reply.text));
      const [{ count }] = await sql<{ count: string }>(`SELECT count(*) FROM notifications WHERE title LIKE $1`, [`${tag}%`]);
      return {
        valid: tally(valid),
        invalid: tally(invalid),
        afterBudget: tally(afterBudget),
        refusals: refusalsWellFormed(afterBudget),
        stored: Number(count),
        logLines: rateLimitLines(ctx, (entry) => entry.userId === admin.id),
      };
    },
  }),
  hostile({
    name: 'REST list, sync and read-all floods by one user',
    category: 'http',
    response: `limited: HTTP_RATE_LIMIT_READ (${READ}) list/sync/unread-count and HTTP_RATE_LIMIT_READ_ALL (${READ_ALL}) read-all per window, then 429 with Retry-After; one log line per budget`,
    expected: { reads: { 200: READ, 429: 20 }, readRefusals: true, readAll: { 200: READ_ALL, 429: 5 }, readAllRefusals: true, logLines: { 'http-read': 1, 'http-read-all': 1 } },
    attack: async (ctx) => {
      watchControl(ctx, 'REST list/sync/read-all flood');
      const user = await ctx.account('USER');
      const token = user.token();
      ctx.secret(token);
      const paths = ['/notifications?limit=1', '/notifications?after=0&limit=1', '/notifications/unread-count'];
      const reads = await pool(20, Array.from({ length: READ + 20 }, (_, i) => () => call(ctx.a.url, paths[i % paths.length], { token })));
      const readAll = await pool(5, Array.from({ length: READ_ALL + 5 }, () => () => call(ctx.a.url, '/notifications/read-all', { method: 'POST', token })));
      ctx.saw(...reads.map((reply) => reply.text), ...readAll.map((reply) => reply.text));
      return {
        reads: tally(reads),
        readRefusals: refusalsWellFormed(reads),
        readAll: tally(readAll),
        readAllRefusals: refusalsWellFormed(readAll),
        logLines: rateLimitLines(ctx, (entry) => entry.userId === user.id),
      };
    },
  }),
  hostile({
    name: 'SSE ticket flood by one user',
    category: 'http',
    response: `limited: HTTP_RATE_LIMIT_STREAM_TICKET (${TICKETS}) tickets per window, then 429 with Retry-After; a ticket issued before still opens its stream`,
    expected: { tickets: { 200: TICKETS, 429: 10 }, refusals: true, earlierTicketOpens: 200, logLines: { 'sse-ticket': 1 } },
    attack: async (ctx) => {
      watchControl(ctx, 'SSE ticket flood');
      const user = await ctx.account('USER');
      const token = user.token();
      ctx.secret(token);
      const replies = await pool(10, Array.from({ length: TICKETS + 10 }, () => () => ticketFor(ctx, token)));
      const first = replies.find((reply) => reply.status === 200);
      const stream = await ctx.sse({ query: `ticket=${(first?.body as StreamTicketResponse | undefined)?.ticket ?? 'none'}` });
      return { tickets: tally(replies), refusals: refusalsWellFormed(replies), earlierTicketOpens: stream.status, logLines: rateLimitLines(ctx, (entry) => entry.userId === user.id) };
    },
  }),
  hostile({
    name: 'SSE replay and connect flood: ten streams from Last-Event-ID 0, then plain reconnects',
    category: 'http',
    response: `limited: HTTP_RATE_LIMIT_STREAM_REPLAY (${REPLAYS}) replays and HTTP_RATE_LIMIT_STREAM_CONNECT (${CONNECTS}) connects per window, then 429 with Retry-After before any database read`,
    expected: { replays: { 200: REPLAYS, 429: 10 - REPLAYS }, replayedHistory: [true, true, true, true, true], replayRefusals: true, connects: { 200: CONNECTS - 10, 429: 5 }, connectRefusals: true, logLines: { 'sse-replay': 1, 'sse-connect': 1 } },
    attack: async (ctx) => {
      watchControl(ctx, 'SSE replay/connect flood');
      const user = await ctx.account('USER');
      const token = user.token();
      ctx.secret(token);
      const service = ctx.a.running.app.get(NotificationService);
      const tag = `history ${randomUUID()}`;
      for (let i = 0; i < 3; i += 1) await service.sendToUser(user.id, { title: `${tag} ${i}`, content: 'c' });
      const historyIn = (messages: { event: string; data: unknown }[]): number =>
        messages.filter((message) => message.event === 'notification:new' && String((message.data as NotificationView).title).startsWith(tag)).length;
      const replays: Reply[] = [];
      const replayedHistory: boolean[] = [];
      for (let i = 0; i < 10; i += 1) {
        const stream = await openSse(ctx.a.url, { token, headers: { 'last-event-id': '0' } });
        ctx.saw(stream.text);
        if (stream.status === 200) {
          await stream.until((messages) => historyIn(messages) >= 3).catch(() => undefined);
          replayedHistory.push(historyIn(stream.messages) === 3);
        }
        stream.close();
        await stream.ended;
        replays.push({ status: stream.status, headers: stream.headers, text: stream.text, body: stream.body });
      }
      const connects: Reply[] = [];
      for (let i = 0; i < CONNECTS - 10 + 5; i += 1) {
        const stream = await openSse(ctx.a.url, { token });
        ctx.saw(stream.text);
        stream.close();
        await stream.ended;
        connects.push({ status: stream.status, headers: stream.headers, text: stream.text, body: stream.body });
      }
      return {
        replays: tally(replays),
        replayedHistory,
        replayRefusals: refusalsWellFormed(replays),
        connects: tally(connects),
        connectRefusals: refusalsWellFormed(connects),
        logLines: rateLimitLines(ctx, (entry) => entry.userId === user.id),
      };
    },
  }),
  hostile({
    name: 'login lockout: ten wrong passwords from one address do not lock the owner out from another',
    category: 'http',
    response: `the attacker's address is locked for that email after ${LOGIN_LOCK} failures (429 with Retry-After, even for the right password); the owner logs in from 127.0.0.12, repeatedly (successes are not counted); ${LOGIN_GLOBAL} failures from all addresses lock the email everywhere`,
    expected: {
      attacker: { 401: LOGIN_LOCK, 429: 10 - LOGIN_LOCK },
      attackerRefusals: true,
      attackerRightPassword: 429,
      owner: [200, 200, 200, 200, 200, 200],
      afterGlobal: { from12: { 401: LOGIN_GLOBAL - LOGIN_LOCK }, from13: 429, from13RetryAfter: true },
      logLines: 2,
    },
    attack: async (ctx) => {
      const account = await createAccount('USER');
      ctx.defer(() => deleteAccount(account.id));
      const password = `Owner-${randomUUID()}`;
      ctx.secret(password);
      await sql('UPDATE users SET password_hash = $1 WHERE id = $2', [await ctx.a.running.app.get(PasswordHasher).hash(password), account.id]);
      const login = async (pass: string, localAddress: string): Promise<Reply> => {
        ctx.secret(pass);
        return ctx.http('/auth/login', { body: { email: account.email, password: pass }, localAddress });
      };
      const attacker: Reply[] = [];
      for (let i = 0; i < 10; i += 1) attacker.push(await login(`Wrong-${i}-${randomUUID()}`, '127.0.0.11'));
      const attackerRightPassword = (await login(password, '127.0.0.11')).status;
      const owner: number[] = [];
      for (let i = 0; i < LOGIN_LOCK + 1; i += 1) owner.push((await login(password, '127.0.0.12')).status);
      const from12: Reply[] = [];
      for (let i = 0; i < LOGIN_GLOBAL - LOGIN_LOCK; i += 1) from12.push(await login(`Wrong-12-${i}-${randomUUID()}`, '127.0.0.12'));
      const from13 = await login(password, '127.0.0.13');
      return {
        attacker: tally(attacker),
        attackerRefusals: refusalsWellFormed(attacker),
        attackerRightPassword,
        owner,
        afterGlobal: { from12: tally(from12), from13: from13.status, from13RetryAfter: Number(from13.headers['retry-after']) > 0 },
        logLines: ctx.securityEvents('RATE_LIMIT_EXCEEDED').filter((entry) => String(entry.reason).startsWith('login')).length,
      };
    },
  }),
  hostile({
    name: 'SSE tickets without Redis: one user hoards tickets to evict a victim\'s',
    category: 'http',
    response: 'capped: SSE_MAX_TICKETS_PER_USER (5) unused tickets per user, then 429 with Retry-After; no other user\'s ticket is ever evicted',
    expected: { issued: 5, capped: true, refusals: true, victimStream: 200 },
    timeoutMs: 60_000,
    attack: async (ctx) => {
      // An instance of its own, single-instance mode (no REDIS_URL): the in-memory ticket store.
      const solo = await startApp({ ...APP_JWT_ENV, SSE_MAX_TICKETS_PER_USER: '5' });
      ctx.defer(() => solo.close());
      const victim = await ctx.account('USER');
      const hoarder = await ctx.account('USER');
      const victimTicket = await ticketFor(ctx, victim.token(), solo.url);
      const token = hoarder.token();
      ctx.secret(token);
      // Before the cap the store evicted the oldest past 10,000: stop at 20 refusals in a row, or there.
      let issued = 0;
      let refusedInARow = 0;
      const refused: Reply[] = [];
      while (refusedInARow < 20 && issued <= 10_000) {
        const batch = await Promise.all(Array.from({ length: 20 }, () => ticketFor(ctx, token, solo.url)));
        for (const reply of batch) {
          if (reply.status === 200) {
            issued += 1;
            refusedInARow = 0;
          } else {
            refusedInARow += 1;
            refused.push(reply);
          }
        }
      }
      const stream = await openSse(solo.url, { query: `ticket=${(victimTicket.body as StreamTicketResponse).ticket}` });
      ctx.saw(stream.text);
      stream.close();
      await stream.ended;
      return { issued, capped: refusedInARow >= 20, refusals: refusalsWellFormed(refused.slice(0, 20)), victimStream: stream.status };
    },
  }),
];
