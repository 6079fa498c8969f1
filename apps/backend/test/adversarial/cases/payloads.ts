import { randomUUID } from 'node:crypto';
import type { NotificationView } from '@notify-gateway/contracts';
import { sql } from '../../support/users';
import { hostile, type AttackContext, type HostileCase } from '../harness';
import { NS, type RawEngine } from '../raw';
import { fieldsOf, GENERIC, invalid, settle } from './common';

/**
 * Payloads: what a socket event (or a REST body) may carry. Sent over a raw websocket so the
 * JSON is exactly what the attacker wrote (own `__proto__` keys, 7000 levels of nesting, `1e309`).
 */

let nextAck = 1000;

/** Sends `event` with the payload JSON text (or several, comma-joined) and an ack id; resolves with the ack payload. */
async function ask(raw: RawEngine, event: string, payloadJson?: string): Promise<unknown> {
  const id = (nextAck += 1);
  raw.send(`42${NS},${id}${JSON.stringify([event]).slice(0, -1)}${payloadJson === undefined ? '' : `,${payloadJson}`}]`);
  const frame = await raw.waitFor((candidate) => candidate.startsWith(`43${NS},${id}[`), 5000);
  return (JSON.parse(frame.slice(`43${NS},${id}`.length)) as unknown[])[0];
}

/** A raw socket joined as a fresh ADMIN of acme (who may create), with a fresh USER to aim at. */
async function adminSocket(ctx: AttackContext): Promise<{ raw: RawEngine; userId: string; adminToken: string }> {
  const [admin, user] = [await ctx.account('ADMIN'), await ctx.account('USER')];
  return { raw: await ctx.joined(admin.token()), userId: user.id, adminToken: admin.token() };
}

/** A sync ack with its random epoch masked, and `streams` checked against `position`. */
export function latestShape(ack: unknown): unknown {
  const value = ack as { ok?: boolean; position?: string; streams?: { stream: string; epoch: string; offset: string }[] } & Record<string, unknown>;
  if (value?.ok !== true || typeof value.position !== 'string') return ack;
  const { streams, position, ...rest } = value;
  const consistent = streams?.length === position.split('_').length && streams.every((s) => position.includes(`.${s.epoch}.${s.offset}`));
  return { ...rest, position: consistent ? position.replace(/\.[A-Za-z0-9]{8,16}\./g, '.<epoch>.') : position };
}

const createJson = (userId: string, extra: string): string => `{"title":"t","content":"c","userId":"${userId}"${extra ? `,${extra}` : ''}}`;

async function storedWithTitle(title: string): Promise<string> {
  return (await sql<{ n: string }>('SELECT count(*)::text AS n FROM notifications WHERE title = $1', [title]))[0].n;
}

const polluted = (): boolean => 'polluted' in ({} as Record<string, unknown>) || Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted');

export const payloadCases: HostileCase[] = [
  hostile({
    name: 'deep nesting inside data (50 levels, within every size bound)',
    category: 'payloads',
    response: 'VALIDATION_FAILED on data (at most 8 levels)',
    expected: invalid('data'),
    attack: async (ctx) => {
      const { raw, userId } = await adminSocket(ctx);
      return fieldsOf(await ask(raw, 'notification:create', createJson(userId, `"data":${'{"a":'.repeat(50)}1${'}'.repeat(50)}`)));
    },
  }),
  hostile({
    name: 'extreme nesting within WS_MAX_PAYLOAD_BYTES: 7000 levels of arrays, 3000 of objects',
    category: 'payloads',
    response: 'VALIDATION_FAILED for each (a malformed payload is a validation failure, not an internal error); the socket stays connected',
    expected: { wholePayload: 'VALIDATION_FAILED', arraysInData: 'VALIDATION_FAILED', objectsInData: 'VALIDATION_FAILED', connected: true },
    attack: async (ctx) => {
      const { raw, userId } = await adminSocket(ctx);
      const code = (ack: unknown): unknown => (ack as { error?: { code?: string } }).error?.code ?? ack;
      return {
        wholePayload: code(await ask(raw, 'notification:sync', `${'['.repeat(7000)}${']'.repeat(7000)}`)),
        arraysInData: code(await ask(raw, 'notification:create', createJson(userId, `"data":{"a":${'['.repeat(7000)}${']'.repeat(7000)}}`))),
        objectsInData: code(await ask(raw, 'notification:create', createJson(userId, `"data":${'{"":'.repeat(3000)}1${'}'.repeat(3000)}`))),
        connected: !raw.isClosed(),
      };
    },
  }),
  hostile({
    name: '"__proto__" keys: at the top of a payload and inside data',
    category: 'payloads',
    response: 'stripped before validation (the request is handled as if the key were absent); Object.prototype is never touched',
    expected: { markRead: { ok: true }, createdData: { a: {} }, prototypePolluted: false },
    attack: async (ctx) => {
      const { raw, userId } = await adminSocket(ctx);
      const target = await ctx.account('ADMIN');
      const targetRaw = await ctx.joined(target.token());
      const mine = (await ask(targetRaw, 'notification:create', createJson(target.id, ''))) as { notification: NotificationView };
      const markRead = await ask(targetRaw, 'notification:mark-read', `{"notificationId":"${mine.notification.id}","__proto__":{"polluted":true,"role":"SUPER_ADMIN"}}`);
      const created = (await ask(raw, 'notification:create', createJson(userId, '"data":{"a":{"__proto__":{"polluted":true}}}'))) as { notification?: NotificationView };
      return { markRead, createdData: created.notification?.data ?? created, prototypePolluted: polluted() };
    },
  }),
  hostile({
    name: '"constructor" and "prototype" keys inside data and at the top of a payload',
    category: 'payloads',
    response: 'stripped before validation, like "__proto__" (the notification is created without them); Object.prototype is never touched',
    expected: { constructorInData: { a: 1 }, prototypeInData: { a: 1 }, constructorAtTop: true, prototypePolluted: false },
    attack: async (ctx) => {
      const { raw, userId } = await adminSocket(ctx);
      const dataOf = async (extra: string): Promise<unknown> => {
        const ack = (await ask(raw, 'notification:create', createJson(userId, extra))) as { notification?: NotificationView };
        return ack.notification ? ack.notification.data : ack;
      };
      const top = (await ask(raw, 'notification:create', createJson(userId, '"constructor":{"prototype":{"polluted":true}}'))) as { ok?: boolean };
      return {
        constructorInData: await dataOf('"data":{"a":1,"constructor":{"prototype":{"polluted":true}}}'),
        prototypeInData: await dataOf('"data":{"a":1,"prototype":{"polluted":true}}'),
        constructorAtTop: top.ok === true,
        prototypePolluted: polluted(),
      };
    },
  }),
  hostile({
    name: 'huge arrays and strings within WS_MAX_PAYLOAD_BYTES',
    category: 'payloads',
    response: 'VALIDATION_FAILED on the fields past their bounds (data 4 KiB, title 200, content 1000)',
    expected: { array: invalid('data'), strings: invalid('content', 'title'), stored: '0' },
    attack: async (ctx) => {
      const { raw, userId } = await adminSocket(ctx);
      const title = `huge ${randomUUID()}${'T'.repeat(5000)}`;
      const array = fieldsOf(await ask(raw, 'notification:create', createJson(userId, `"data":{"list":[${Array(3000).fill(0).join(',')}]}`)));
      const strings = fieldsOf(await ask(raw, 'notification:create', JSON.stringify({ title, content: 'C'.repeat(9000), userId })));
      return { array, strings, stored: await storedWithTitle(title) };
    },
  }),
  hostile({
    name: 'huge arrays and strings beyond WS_MAX_PAYLOAD_BYTES',
    category: 'payloads',
    response: 'disconnect: close code 1009 before anything is parsed; nothing stored',
    expected: { string: { closed: true, code: 1009 }, array: { closed: true, code: 1009 }, stored: '0' },
    attack: async (ctx) => {
      const title = `beyond ${randomUUID()}`;
      const outcome: Record<string, unknown> = {};
      for (const [variant, extra] of [
        ['string', `"content":"${'x'.repeat(20_000)}"`],
        ['array', `"data":{"list":[${Array(10_000).fill(1).join(',')}]}`],
      ] as const) {
        const { raw, userId } = await adminSocket(ctx);
        raw.send(`42${NS},["notification:create",{"title":"${title}","userId":"${userId}",${extra}}]`);
        const closed = await Promise.race([raw.closed, settle(2000).then(() => null)]);
        outcome[variant] = { closed: closed !== null, code: closed?.code };
      }
      return { string: outcome.string, array: outcome.array, stored: await storedWithTitle(title) };
    },
  }),
  hostile({
    name: 'wrong types in every field',
    category: 'payloads',
    response: 'VALIDATION_FAILED naming the field, for each',
    expected: {
      titleNumber: invalid('title'),
      contentArray: invalid('content'),
      priorityObject: invalid('priority'),
      userIdNumber: invalid('userId'),
      scopeUnknown: invalid('scope'),
      dataString: invalid('data'),
      dataArray: invalid('data'),
      limitString: invalid('limit'),
      limitFraction: invalid('limit'),
      limitNegative: invalid('limit'),
      limitInfinite: invalid('limit'),
      afterNumber: invalid('after'),
      notificationIdBoolean: invalid('notificationId'),
    },
    attack: async (ctx) => {
      const { raw, userId } = await adminSocket(ctx);
      const create = async (extra: string): Promise<unknown> => fieldsOf(await ask(raw, 'notification:create', `{"userId":"${userId}","title":"t","content":"c",${extra}}`));
      return {
        titleNumber: await create('"title":42'),
        contentArray: await create('"content":["c"]'),
        priorityObject: await create('"priority":{"level":"high"}'),
        userIdNumber: fieldsOf(await ask(raw, 'notification:create', '{"title":"t","content":"c","userId":42}')),
        scopeUnknown: await create('"scope":"ROOT"'),
        dataString: await create('"data":"{}"'),
        dataArray: await create('"data":[1,2]'),
        limitString: fieldsOf(await ask(raw, 'notification:sync', '{"limit":"10"}')),
        limitFraction: fieldsOf(await ask(raw, 'notification:sync', '{"limit":1.5}')),
        limitNegative: fieldsOf(await ask(raw, 'notification:sync', '{"limit":-1}')),
        limitInfinite: fieldsOf(await ask(raw, 'notification:sync', '{"limit":1e309}')),
        afterNumber: fieldsOf(await ask(raw, 'notification:sync', '{"after":5}')),
        notificationIdBoolean: fieldsOf(await ask(raw, 'notification:mark-read', '{"notificationId":true}')),
      };
    },
  }),
  hostile({
    name: 'payloads that are not objects',
    category: 'payloads',
    response: 'VALIDATION_FAILED for a string, a number, a boolean, an array or extra arguments; null and no payload mean "no options": the latest page and the current position',
    expected: {
      string: invalid('body'),
      number: invalid('body'),
      boolean: invalid('body'),
      array: invalid('body'),
      extraArguments: invalid('0', '1', '2'),
      markAllReadWithFields: invalid('(payload)'),
      nullPayload: { ok: true, notifications: [], cursor: null, hasMore: false, reset: [], position: 'u.<epoch>.0' },
      noPayload: { ok: true, notifications: [], cursor: null, hasMore: false, reset: [], position: 'u.<epoch>.0' },
    },
    attack: async (ctx) => {
      const user = await ctx.account('USER');
      const raw = await ctx.joined(user.token());
      return {
        string: fieldsOf(await ask(raw, 'notification:sync', '"hello"')),
        number: fieldsOf(await ask(raw, 'notification:sync', '42')),
        boolean: fieldsOf(await ask(raw, 'notification:sync', 'true')),
        array: fieldsOf(await ask(raw, 'notification:sync', '[]')),
        extraArguments: fieldsOf(await ask(raw, 'notification:sync', '{},{},{}')),
        markAllReadWithFields: fieldsOf(await ask(raw, 'notification:mark-all-read', '{"userId":"someone-else"}')),
        nullPayload: latestShape(await ask(raw, 'notification:sync', 'null')),
        noPayload: latestShape(await ask(raw, 'notification:sync')),
      };
    },
  }),
  hostile({
    name: 'C0 control characters and ANSI escapes in title and content',
    category: 'payloads',
    response: 'VALIDATION_FAILED on each text field that carries one',
    expected: { nul: invalid('title'), bell: invalid('content'), ansi: invalid('content', 'title'), crlf: invalid('title'), stored: '0' },
    attack: async (ctx) => {
      const { raw, userId } = await adminSocket(ctx);
      const tag = randomUUID();
      const create = async (title: string, content: string): Promise<unknown> => fieldsOf(await ask(raw, 'notification:create', JSON.stringify({ title: `${tag}${title}`, content, userId })));
      return {
        nul: await create('a\u0000b', 'c'),
        bell: await create('t', 'ding\u0007'),
        ansi: await create('\u001b[2J\u001b[31mred', '\u001b]0;pwned\u0007'),
        crlf: await create('line\r\nX-Injected: yes', 'c'),
        stored: (await sql<{ n: string }>('SELECT count(*)::text AS n FROM notifications WHERE title LIKE $1', [`${tag}%`]))[0].n,
      };
    },
  }),
  hostile({
    name: 'U+0000 and unpaired surrogates as JSON escapes in data, title and content',
    category: 'payloads',
    response: 'VALIDATION_FAILED naming the field on the socket, 400 on REST and batch: jsonb holds neither, and a text column would store U+FFFD instead of what was answered; nothing stored, never a 5xx',
    expected: {
      nulInData: invalid('data'),
      nulInDataKey: invalid('data'),
      unpairedInData: invalid('data'),
      unpairedInTitle: invalid('title'),
      unpairedInContent: invalid('content'),
      rest: [400, ['data']],
      batch: [400, ['items.1.data']],
      stored: '0',
    },
    attack: async (ctx) => {
      const { raw, userId, adminToken } = await adminSocket(ctx);
      const tag = randomUUID();
      const create = async (fields: string): Promise<unknown> => fieldsOf(await ask(raw, 'notification:create', `{"title":"${tag}","content":"c","userId":"${userId}",${fields}}`));
      const fieldsOfReply = (reply: { status: number; body: unknown }): unknown => [reply.status, ((reply.body as { errors?: { field: string }[] }).errors ?? []).map((error) => error.field)];
      const item = (data: string): string => `{"title":"${tag}","content":"c","userId":"${userId}"${data}}`;
      return {
        nulInData: await create('"data":{"a":"x\\u0000y"}'),
        nulInDataKey: await create('"data":{"\\u0000":1}'),
        unpairedInData: await create('"data":{"a":["\\udc00"]}'),
        unpairedInTitle: fieldsOf(await ask(raw, 'notification:create', `{"title":"${tag} \\ud800","content":"c","userId":"${userId}"}`)),
        unpairedInContent: await create('"content":"\\ud83d"'),
        rest: fieldsOfReply(await ctx.http('/notifications', { token: adminToken, body: JSON.parse(item(',"data":{"a":"\\u0000"}')) as unknown })),
        batch: fieldsOfReply(await ctx.http('/notifications/batch', { token: adminToken, body: JSON.parse(`{"items":[${item('')},${item(',"data":{"a":"\\ud800"}')}]}`) as unknown })),
        stored: await storedWithTitle(tag),
      };
    },
  }),
  hostile({
    name: 'C1 control characters (U+0085 NEL, U+009B CSI) in title and content',
    category: 'payloads',
    response: 'VALIDATION_FAILED on title and content: docs/EVENTS.md says text fields refuse control characters, and C1 controls are control characters (Unicode Cc)',
    expected: { ack: invalid('content', 'title'), stored: '0' },
    attack: async (ctx) => {
      const { raw, userId } = await adminSocket(ctx);
      const title = `c1 ${randomUUID()} \u0085next line`;
      const ack = fieldsOf(await ask(raw, 'notification:create', JSON.stringify({ title, content: '\u009b2J\u009b31m', userId })));
      return { ack, stored: await storedWithTitle(title) };
    },
  }),
  hostile({
    name: 'Unicode tricks in a title: right-to-left override, zero-width characters, bidi isolates',
    category: 'payloads',
    response: 'accepted and stored verbatim: the recipient, REST and the database get exactly the code points sent (rendering them safely is the client\'s job; docs/SECURITY.md)',
    expected: { created: true, deliveredVerbatim: true, listedVerbatim: true, storedVerbatim: true },
    attack: async (ctx) => {
      const [admin, user] = [await ctx.account('ADMIN'), await ctx.account('USER')];
      const recipient = await ctx.socket({ token: user.token() });
      const delivered = new Promise<NotificationView>((resolve) => recipient.once('notification:new', resolve));
      const title = `Invoice \u202Efdp.exe\u202C \u200B\u200C\u200D\u2060\uFEFF \u2066isolated\u2069 ${randomUUID()}`;
      const created = await ctx.http('/notifications', { token: admin.token(), body: { title, content: 'pay \u202Enow\u202C', userId: user.id } });
      const view = await Promise.race([delivered, settle(3000).then(() => null)]);
      const listed = await ctx.http('/notifications?limit=1', { token: user.token() });
      const stored = await sql<{ title: string }>('SELECT title FROM notifications WHERE id = $1', [(created.body as NotificationView).id]);
      return {
        created: created.status === 201,
        deliveredVerbatim: view?.title === title && view?.content === 'pay \u202Enow\u202C',
        listedVerbatim: (listed.body as { items: NotificationView[] }).items[0]?.title === title,
        storedVerbatim: stored[0]?.title === title,
      };
    },
  }),
  hostile({
    name: 'ids and values that look like SQL',
    category: 'payloads',
    response: 'VALIDATION_FAILED on the socket, 404 / 400 on REST; a SQL-looking title is stored verbatim as text and the table is intact',
    expected: {
      markRead: invalid('notificationId'),
      syncAfter: invalid('after'),
      restMarkRead: [404, GENERIC[404]],
      restListAfter: [400, 'VALIDATION_FAILED'],
      titleStoredVerbatim: true,
      tableIntact: true,
    },
    attack: async (ctx) => {
      const { raw, userId, adminToken } = await adminSocket(ctx);
      const injection = "' OR 1=1 --";
      const markRead = fieldsOf(await ask(raw, 'notification:mark-read', JSON.stringify({ notificationId: injection })));
      const syncAfter = fieldsOf(await ask(raw, 'notification:sync', JSON.stringify({ after: '1 OR 1=1' })));
      const restMarkRead = await ctx.http(`/notifications/${encodeURIComponent(injection)}/read`, { method: 'PATCH', token: adminToken });
      const restListAfter = await ctx.http(`/notifications?after=${encodeURIComponent('1; DROP TABLE notifications; --')}`, { token: adminToken });
      const title = `'); DROP TABLE notifications; -- ${randomUUID()}`;
      const content = "1' UNION SELECT password_hash FROM users --";
      ctx.sent(title, content);
      const created = (await ask(raw, 'notification:create', JSON.stringify({ title, content, userId }))) as { notification?: NotificationView };
      const stored = await sql<{ title: string }>('SELECT title FROM notifications WHERE id = $1', [created.notification?.id ?? '00000000-0000-4000-8000-000000000000']);
      const intact = await sql<{ n: string }>('SELECT count(*)::text AS n FROM notifications');
      return {
        markRead,
        syncAfter,
        restMarkRead: [restMarkRead.status, restMarkRead.body],
        restListAfter: [restListAfter.status, (restListAfter.body as { code?: string }).code],
        titleStoredVerbatim: stored[0]?.title === title,
        tableIntact: Number(intact[0].n) > 0,
      };
    },
  }),
  hostile({
    name: 'ids that look like paths',
    category: 'payloads',
    response: 'VALIDATION_FAILED on the socket; the generic 404 on REST, however the dots are encoded',
    expected: {
      markRead: invalid('notificationId'),
      restEncoded: [404, GENERIC[404]],
      restDotSegments: [404, GENERIC[404]],
      restDoubleEncoded: [404, GENERIC[404]],
    },
    attack: async (ctx) => {
      const user = await ctx.account('USER');
      const raw = await ctx.joined(user.token());
      const token = user.token();
      const markRead = fieldsOf(await ask(raw, 'notification:mark-read', JSON.stringify({ notificationId: '../../../../etc/passwd' })));
      const reply = async (path: string): Promise<[number, unknown]> => {
        const answer = await ctx.http(path, { method: 'PATCH', token });
        return [answer.status, answer.body];
      };
      return {
        markRead,
        restEncoded: await reply('/notifications/..%2F..%2F..%2Fetc%2Fpasswd/read'),
        restDotSegments: await reply('/notifications/../../etc/passwd/read'),
        restDoubleEncoded: await reply('/notifications/%252e%252e%252fetc%252fpasswd/read'),
      };
    },
  }),
  hostile({
    name: 'mass assignment: server-owned fields in a create payload',
    category: 'payloads',
    response: 'VALIDATION_FAILED naming every unknown field; nothing stored',
    expected: { ack: invalid('createdById', 'createdAt', 'id', 'isRead', 'seq'), stored: '0' },
    attack: async (ctx) => {
      const { raw, userId } = await adminSocket(ctx);
      const title = `mass ${randomUUID()}`;
      const ack = fieldsOf(
        await ask(
          raw,
          'notification:create',
          JSON.stringify({ title, content: 'c', userId, id: randomUUID(), seq: '1', createdById: userId, createdAt: '2000-01-01T00:00:00Z', isRead: true }),
        ),
      );
      return { ack, stored: await storedWithTitle(title) };
    },
  }),
  hostile({
    name: 'cursors at and beyond the bigint range',
    category: 'payloads',
    response: 'a 19-digit cursor (even above 2^63-1) means "nothing after it": an empty page, never a 5xx; 20 digits are VALIDATION_FAILED',
    expected: {
      maxBigint: { ok: true, notifications: [], cursor: '9223372036854775807', hasMore: false, reset: [], position: 'u.<epoch>.0' },
      beyondBigint: { ok: true, notifications: [], cursor: '9999999999999999999', hasMore: false, reset: [], position: 'u.<epoch>.0' },
      twentyDigits: invalid('after'),
      restBeyond: [200, { items: [], cursor: '9999999999999999999', hasMore: false }],
      sseBeyond: 200,
    },
    attack: async (ctx) => {
      const user = await ctx.account('USER');
      const raw = await ctx.joined(user.token());
      const rest = await ctx.http('/notifications?after=9999999999999999999', { token: user.token() });
      const stream = await ctx.sse({ token: user.token(), headers: { 'last-event-id': '9999999999999999999' } });
      return {
        maxBigint: latestShape(await ask(raw, 'notification:sync', '{"after":"9223372036854775807"}')),
        beyondBigint: latestShape(await ask(raw, 'notification:sync', '{"after":"9999999999999999999"}')),
        twentyDigits: fieldsOf(await ask(raw, 'notification:sync', '{"after":"12345678901234567890"}')),
        restBeyond: [rest.status, rest.body],
        sseBeyond: stream.status,
      };
    },
  }),
  hostile({
    name: 'operator objects as ids (NoSQL-style injection)',
    category: 'payloads',
    response: 'VALIDATION_FAILED on notificationId',
    expected: { gt: invalid('notificationId'), ne: invalid('notificationId'), regex: invalid('notificationId') },
    attack: async (ctx) => {
      const user = await ctx.account('USER');
      const raw = await ctx.joined(user.token());
      return {
        gt: fieldsOf(await ask(raw, 'notification:mark-read', '{"notificationId":{"$gt":""}}')),
        ne: fieldsOf(await ask(raw, 'notification:mark-read', '{"notificationId":{"$ne":null}}')),
        regex: fieldsOf(await ask(raw, 'notification:mark-read', '{"notificationId":{"$regex":".*"}}')),
      };
    },
  }),
];
