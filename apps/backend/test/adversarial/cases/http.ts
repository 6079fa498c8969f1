import { randomBytes, randomUUID } from 'node:crypto';
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import type { StreamTicketResponse } from '@notify-gateway/contracts';
import { NotificationService } from '../../../src/notifications/notification.service';
import { SseHub } from '../../../src/notifications/sse/sse-hub';
import { ConnectionLimiter } from '../../../src/security/connection-limiter';
import { ALLOWED_ORIGIN } from '../../support/test-app';
import { hostile, type AttackContext, type HostileCase } from '../harness';
import { rawRequest, rawUpgrade } from '../raw';
import { GENERIC, ORIGIN_403 } from './common';

/**
 * HTTP: REST and the SSE routes — bodies too large or of the wrong type, tickets replayed,
 * stolen and forged, cursors that are not cursors, tokens in URLs, huge headers, brute force.
 */

async function mintTicket(ctx: AttackContext, token: string): Promise<string> {
  const reply = await ctx.http('/notifications/stream-ticket', { method: 'POST', token });
  if (reply.status !== 200) throw new Error(`stream-ticket answered ${reply.status}`);
  const { ticket } = reply.body as StreamTicketResponse;
  ctx.secret(ticket);
  return ticket;
}

/** Opens the stream, reads the status line and headers, then never reads again. */
function stalledStream(url: string, token: string): Promise<{ request: ClientRequest; response: IncomingMessage }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      `${url}/notifications/stream`,
      { headers: { authorization: `Bearer ${token}`, origin: ALLOWED_ORIGIN, accept: 'text/event-stream' }, agent: false },
      (response) => {
        response.pause();
        resolve({ request, response });
      },
    );
    request.on('error', reject);
    request.end();
  });
}

const answer = (reply: { status: number; body: unknown }): [number, unknown] => [reply.status, reply.body];

export const httpCases: HostileCase[] = [
  hostile({
    name: 'bodies over HTTP_MAX_BODY_BYTES on REST and login',
    category: 'http',
    response: 'refused: 413 PAYLOAD_TOO_LARGE with the generic body, nothing stored',
    expected: { create: [413, GENERIC[413]], login: [413, GENERIC[413]], stored: false },
    attack: async (ctx) => {
      const admin = await ctx.account('ADMIN');
      const title = `oversized ${randomUUID()}`;
      const create = await ctx.http('/notifications', { token: admin.token(), body: { title, content: 'c', userId: admin.id, data: { blob: 'x'.repeat(70_000) } } });
      const login = await ctx.http('/auth/login', { body: { email: admin.email, password: 'p'.repeat(70_000) } });
      const list = await ctx.http('/notifications?limit=1', { token: admin.token() });
      return { create: answer(create), login: answer(login), stored: JSON.stringify(list.body).includes(title) };
    },
  }),
  hostile({
    name: 'wrong content types on POST /notifications',
    category: 'http',
    response: 'refused: 400 VALIDATION_FAILED (the body is not read as JSON; UTF-16 decodes to garbage), 415 for a charset JSON cannot have; never 2xx, never 5xx',
    expected: { textPlain: 400, form: 400, multipart: 400, xml: 400, jsonUtf16: 400, jsonLatin1: [415, GENERIC[415]], noContentType: 400 },
    attack: async (ctx) => {
      const admin = await ctx.account('ADMIN');
      const json = JSON.stringify({ title: 'typed', content: 'c', userId: admin.id });
      const post = async (contentType: string | undefined, body: string): Promise<number> => {
        const reply = await ctx.http('/notifications', { token: admin.token(), body, headers: contentType === undefined ? {} : { 'content-type': contentType } });
        return reply.status;
      };
      return {
        textPlain: await post('text/plain', json),
        form: await post('application/x-www-form-urlencoded', `title=typed&content=c&userId=${admin.id}`),
        multipart: await post('multipart/form-data; boundary=x', `--x\r\nContent-Disposition: form-data; name="title"\r\n\r\ntyped\r\n--x--\r\n`),
        xml: await post('application/xml', '<notification><title>typed</title></notification>'),
        jsonUtf16: await post('application/json; charset=utf-16', json),
        jsonLatin1: answer(await ctx.http('/notifications', { token: admin.token(), body: json, headers: { 'content-type': 'application/json; charset=latin1' } })),
        noContentType: await post('', json),
      };
    },
  }),
  hostile({
    name: 'malformed JSON bodies',
    category: 'http',
    response: 'refused: 400 with the generic body (no parser message echoed)',
    expected: { truncated: [400, GENERIC[400]], topLevelString: [400, GENERIC[400]], trailingGarbage: [400, GENERIC[400]], duplicateKeysLastWins: 400 },
    attack: async (ctx) => {
      const admin = await ctx.account('ADMIN');
      const post = async (body: string) => ctx.http('/notifications', { token: admin.token(), body, headers: { 'content-type': 'application/json' } });
      const duplicate = await post(`{"title":"t","content":"c","userId":"${admin.id}","userId":"not-a-uuid"}`);
      return {
        truncated: answer(await post('{"title": "t", "content": ')),
        topLevelString: answer(await post('"just a string"')),
        trailingGarbage: answer(await post('{"title":"t"} {"x":1}')),
        duplicateKeysLastWins: duplicate.status,
      };
    },
  }),
  hostile({
    name: 'deeply nested JSON to POST /auth/login (unauthenticated), within HTTP_MAX_BODY_BYTES',
    category: 'http',
    response: 'refused: 400 VALIDATION_FAILED — a malformed body is the client\'s error, never a 500 an anonymous caller can trigger at will',
    expected: { arrays: 400, objectsInField: 400 },
    attack: async (ctx) => {
      const post = async (body: string): Promise<number> => (await ctx.http('/auth/login', { body, headers: { 'content-type': 'application/json' } })).status;
      return {
        arrays: await post(`${'['.repeat(30_000)}${']'.repeat(30_000)}`),
        objectsInField: await post(`{"email":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)},"password":"x"}`),
      };
    },
  }),
  hostile({
    name: 'the SSE routes: oversized and malformed bodies, wrong methods',
    category: 'http',
    response: 'refused: 413 / 400 / 404 with generic bodies; no ticket issued, no stream opened',
    expected: {
      ticketOversized: [413, GENERIC[413]],
      ticketMalformed: [400, GENERIC[400]],
      streamWithOversizedBody: 413,
      postToStream: [404, GENERIC[404]],
      getTicket: [404, GENERIC[404]],
    },
    attack: async (ctx) => {
      const user = await ctx.account('USER');
      const token = user.token();
      const stream = await ctx.rawHttp(
        rawRequest(ctx.a.url, 'GET', '/notifications/stream', [`Origin: ${ALLOWED_ORIGIN}`, `Authorization: Bearer ${token}`, 'Content-Type: application/json'], JSON.stringify({ x: 'y'.repeat(70_000) })),
      );
      return {
        ticketOversized: answer(await ctx.http('/notifications/stream-ticket', { token, body: { pad: 'x'.repeat(70_000) } })),
        ticketMalformed: answer(await ctx.http('/notifications/stream-ticket', { token, body: '{"x":', headers: { 'content-type': 'application/json' } })),
        streamWithOversizedBody: stream.status,
        postToStream: answer(await ctx.http('/notifications/stream', { method: 'POST', token, body: {} })),
        getTicket: answer(await ctx.http('/notifications/stream-ticket', { token })),
      };
    },
  }),
  hostile({
    name: 'SSE ticket replay',
    category: 'http',
    response: 'the first use opens the stream; every later use is 401 with the generic body (single use)',
    expected: { first: 200, second: [401, GENERIC[401]], third: [401, GENERIC[401]], logged: ['INVALID_TICKET', 'INVALID_TICKET'] },
    attack: async (ctx) => {
      const user = await ctx.account('USER');
      const ticket = await mintTicket(ctx, user.token());
      const first = await ctx.sse({ query: `ticket=${ticket}` });
      const mark = ctx.mark();
      const second = await ctx.sse({ query: `ticket=${ticket}` });
      const third = await ctx.sse({ query: `ticket=${ticket}` });
      return { first: first.status, second: answer(second), third: answer(third), logged: ctx.securityEvents('AUTHENTICATION_FAILED', mark).map((entry) => String(entry.reason)) };
    },
  }),
  hostile({
    name: "SSE ticket theft: another user presents a victim's ticket",
    category: 'http',
    response: "401 when presented with the thief's own token (and the ticket is burnt); 401 when the victim already used it; a stream, when it opens, is only ever the victim's",
    expected: { withOwnToken: [401, GENERIC[401]], victimAfterTheft: [401, GENERIC[401]], replayOfUsedTicket: [401, GENERIC[401]], logged: ['CONFLICTING_CREDENTIALS', 'INVALID_TICKET', 'INVALID_TICKET'] },
    attack: async (ctx) => {
      const [victim, thief] = [await ctx.account('USER'), await ctx.account('ADMIN', 'admin@globex.test')];
      const stolen = await mintTicket(ctx, victim.token());
      const mark = ctx.mark();
      const withOwnToken = await ctx.sse({ query: `ticket=${stolen}`, token: thief.token() });
      const victimAfterTheft = await ctx.sse({ query: `ticket=${stolen}` });
      const used = await mintTicket(ctx, victim.token());
      const victimStream = await ctx.sse({ query: `ticket=${used}` });
      if (victimStream.status !== 200) throw new Error(`the victim's own ticket answered ${victimStream.status}`);
      const replayOfUsedTicket = await ctx.sse({ query: `ticket=${used}` });
      return {
        withOwnToken: answer(withOwnToken),
        victimAfterTheft: answer(victimAfterTheft),
        replayOfUsedTicket: answer(replayOfUsedTicket),
        logged: ctx.securityEvents('AUTHENTICATION_FAILED', mark).map((entry) => String(entry.reason)),
      };
    },
  }),
  hostile({
    name: 'forged SSE tickets',
    category: 'http',
    response: '401 with the generic body for each (random, wrong length, path, SQL, repeated parameter)',
    expected: { random: 401, short: 401, long: 401, path: 401, sql: 401, repeated: 401 },
    attack: async (ctx) => {
      const status = async (query: string): Promise<number> => (await ctx.sse({ query })).status;
      return {
        random: await status(`ticket=${randomBytes(32).toString('base64url')}`),
        short: await status('ticket=abc'),
        long: await status(`ticket=${'A'.repeat(5000)}`),
        path: await status(`ticket=${encodeURIComponent('../../etc/passwd')}`),
        sql: await status(`ticket=${encodeURIComponent("' OR 1=1 --")}`),
        repeated: await status(`ticket=${randomBytes(32).toString('base64url')}&ticket=${randomBytes(32).toString('base64url')}`),
      };
    },
  }),
  hostile({
    name: 'malformed Last-Event-ID (header and query)',
    category: 'http',
    response: '400 VALIDATION_FAILED naming Last-Event-ID, no stream opened; an empty header is ignored',
    expected: {
      letters: 400,
      negative: 400,
      exponent: 400,
      hex: 400,
      twentyDigits: 400,
      sql: 400,
      path: 400,
      unicodeDigits: 400,
      queryRepeated: 400,
      body: { statusCode: 400, code: 'VALIDATION_FAILED', message: 'Validation failed', errors: [{ field: 'Last-Event-ID', messages: ['must be a position (or a notification cursor)'] }] },
      emptyHeader: 200,
    },
    attack: async (ctx) => {
      const user = await ctx.account('USER');
      const token = user.token();
      const header = async (value: string): Promise<number> => (await ctx.sse({ token, headers: { 'last-event-id': value } })).status;
      const letters = await ctx.sse({ token, headers: { 'last-event-id': 'abc' } });
      return {
        letters: letters.status,
        negative: await header('-1'),
        exponent: await header('1e3'),
        hex: await header('0x10'),
        twentyDigits: await header('12345678901234567890'),
        sql: await header('1 OR 1=1'),
        path: await header('../1'),
        unicodeDigits: (await ctx.sse({ token, query: `lastEventId=${encodeURIComponent('\u0661\u0662')}` })).status,
        queryRepeated: (await ctx.sse({ token, query: 'lastEventId=1&lastEventId=2' })).status,
        body: letters.body,
        emptyHeader: await header(''),
      };
    },
  }),
  hostile({
    name: 'a JWT in the SSE query string, under any parameter name',
    category: 'http',
    response: '401 for each, even for a valid token (TOKEN_IN_URL); the token appears in no log line',
    expected: { token: 401, access_token: 401, ticket: 401, anyName: 401, withValidHeaderToo: 401, logged: ['TOKEN_IN_URL', 'TOKEN_IN_URL', 'TOKEN_IN_URL', 'TOKEN_IN_URL', 'TOKEN_IN_URL'] },
    attack: async (ctx) => {
      const user = await ctx.account('USER');
      const jwt = user.token();
      ctx.secret(jwt);
      const mark = ctx.mark();
      const status = async (query: string, token?: string): Promise<number> => (await ctx.sse({ query, token })).status;
      return {
        token: await status(`token=${jwt}`),
        access_token: await status(`access_token=${jwt}`),
        ticket: await status(`ticket=${jwt}`),
        anyName: await status(`q=${jwt}`),
        withValidHeaderToo: await status(`x=Bearer%20${jwt}`, jwt),
        logged: ctx.securityEvents('AUTHENTICATION_FAILED', mark).map((entry) => String(entry.reason)),
      };
    },
  }),
  hostile({
    name: 'huge request headers (over 16 KB) on REST, SSE, the polling handshake and the websocket upgrade',
    category: 'http',
    response: '431 from the HTTP parser on every door, the connection closed',
    expected: { rest: [431, true], sse: [431, true], polling: [431, true], upgrade: [431, true] },
    attack: async (ctx) => {
      const big = `X-Padding: ${'p'.repeat(20_000)}`;
      const origin = `Origin: ${ALLOWED_ORIGIN}`;
      const send = async (request: string): Promise<[number, boolean]> => {
        const response = await ctx.rawHttp(request);
        return [response.status, response.closedByServer || response.headers.connection === 'close'];
      };
      return {
        rest: await send(rawRequest(ctx.a.url, 'GET', '/health/live', [origin, big])),
        sse: await send(rawRequest(ctx.a.url, 'GET', '/notifications/stream', [origin, big])),
        polling: await send(rawRequest(ctx.a.url, 'GET', '/socket.io/?EIO=4&transport=polling', [origin, big])),
        upgrade: await send(rawUpgrade(ctx.a.url, [origin, big])),
      };
    },
  }),
  hostile({
    name: 'Authorization header tricks',
    category: 'http',
    response: '401 with the generic body for each: another scheme, an empty Bearer, junk after the token, the token twice',
    expected: { basic: 401, emptyBearer: 401, junkAfter: 401, tokenScheme: 401, twoTokens: 401, lowercaseBearerIsFine: 200 },
    attack: async (ctx) => {
      const user = await ctx.account('USER');
      const token = user.token();
      ctx.secret(token);
      const status = async (authorization: string): Promise<number> => (await ctx.http('/notifications/unread-count', { headers: { authorization } })).status;
      return {
        basic: await status(`Basic ${Buffer.from(`${user.email}:x`).toString('base64')}`),
        emptyBearer: await status('Bearer '),
        junkAfter: await status(`Bearer ${token} junk`),
        tokenScheme: await status(`Token ${token}`),
        twoTokens: await status(`Bearer ${token}, Bearer ${token}`),
        lowercaseBearerIsFine: await status(`bearer ${token}`),
      };
    },
  }),
  hostile({
    name: 'password guessing against one account',
    category: 'http',
    response: 'five generic 401s (LOGIN_RATE_LIMIT_PER_EMAIL=5), then 429 RATE_LIMITED with Retry-After, even for a right guess; no password in any log line',
    expected: { guesses: [401, 401, 401, 401, 401], sixth: [429, GENERIC[429]], retryAfter: true, bodies: [{ statusCode: 401, code: 'UNAUTHORIZED', message: 'Invalid credentials' }] },
    attack: async (ctx) => {
      const email = `victim-${randomUUID()}@adversarial.test`;
      const guesses: number[] = [];
      const bodies = new Set<string>();
      for (let i = 0; i < 5; i += 1) {
        const password = `Guess-${i}-${randomUUID()}`;
        ctx.secret(password);
        const reply = await ctx.http('/auth/login', { body: { email, password } });
        guesses.push(reply.status);
        bodies.add(JSON.stringify(reply.body));
      }
      const password = `Guess-6-${randomUUID()}`;
      ctx.secret(password);
      const sixth = await ctx.http('/auth/login', { body: { email, password } });
      return { guesses, sixth: answer(sixth), retryAfter: Number(sixth.headers['retry-after']) > 0, bodies: [...bodies].map((body) => JSON.parse(body) as unknown) };
    },
  }),
  hostile({
    name: 'malformed percent-encoding and odd methods',
    category: 'http',
    response: '400 for a path that does not decode, 404 for unknown methods, 403 without CORS headers for a foreign preflight — all with generic bodies',
    expected: {
      badEncoding: [400, GENERIC[400]],
      trace: 404,
      put: [404, GENERIC[404]],
      deleteAll: [404, GENERIC[404]],
      foreignPreflight: [403, ORIGIN_403, false],
    },
    attack: async (ctx) => {
      const user = await ctx.account('USER');
      const token = user.token();
      ctx.secret(token);
      const badEncoding = await ctx.rawHttp(rawRequest(ctx.a.url, 'PATCH', '/notifications/%E0%A4%A/read', [`Origin: ${ALLOWED_ORIGIN}`, `Authorization: Bearer ${token}`]));
      const trace = await ctx.rawHttp(rawRequest(ctx.a.url, 'TRACE', '/notifications', [`Origin: ${ALLOWED_ORIGIN}`]));
      const preflight = await ctx.rawHttp(rawRequest(ctx.a.url, 'OPTIONS', '/notifications', ['Origin: https://evil.test', 'Access-Control-Request-Method: POST']));
      return {
        badEncoding: [badEncoding.status, JSON.parse(badEncoding.body) as unknown],
        trace: trace.status,
        put: answer(await ctx.http('/notifications', { method: 'PUT', token, body: {} })),
        deleteAll: answer(await ctx.http('/notifications', { method: 'DELETE', token })),
        foreignPreflight: [preflight.status, JSON.parse(preflight.body) as unknown, 'access-control-allow-origin' in preflight.headers],
      };
    },
  }),
  hostile({
    name: 'an SSE stream that never reads while notifications for it keep coming',
    category: 'http',
    response: 'disconnect: cut off once it would queue more than SSE_MAX_BUFFERED_BYTES, never holding more; SECURITY_VIOLATION "slow consumer" logged; its connection slot given back',
    expected: { opened: 200, cutOff: true, neverHeldMoreThanTheBound: true, slotReleased: true },
    timeoutMs: 40_000,
    attack: async (ctx) => {
      const user = await ctx.account('USER');
      const token = user.token();
      ctx.secret(token);
      const hub = ctx.a.running.app.get(SseHub);
      const limiter = ctx.a.running.app.get(ConnectionLimiter);
      const service = ctx.a.running.app.get(NotificationService);
      const bound = ctx.a.running.config.sse.maxBufferedBytes;
      const leasesBefore = limiter.active;
      const { request, response } = await stalledStream(ctx.a.url, token);
      ctx.defer(() => request.destroy());
      const mark = ctx.mark();
      const violation = (): Record<string, unknown> | undefined =>
        ctx.securityEvents('SECURITY_VIOLATION', mark).find((entry) => entry.userId === user.id && entry.transport === 'sse');
      const big = { title: 'bulk', content: 'y'.repeat(1000), data: { blob: 'x'.repeat(3900) } };
      let published = 0;
      while (!violation() && published < 24 * 1024 * 1024) {
        await Promise.all(Array.from({ length: 10 }, () => service.sendToUser(user.id, big)));
        published += 10 * 5500;
      }
      const deadline = Date.now() + 2000;
      while (limiter.active !== leasesBefore && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      return {
        opened: response.statusCode,
        cutOff: violation()?.reason === 'slow consumer',
        neverHeldMoreThanTheBound: hub.stats().peakBufferedBytes <= bound,
        slotReleased: limiter.active === leasesBefore,
      };
    },
  }),
];
