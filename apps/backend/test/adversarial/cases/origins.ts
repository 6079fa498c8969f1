import { parseBody } from '../../support/http';
import { ALLOWED_ORIGIN } from '../../support/test-app';
import { hostile, type AttackContext, type HostileCase } from '../harness';
import { rawRequest, rawUpgrade } from '../raw';
import { ORIGIN_403 } from './common';

/**
 * Origins: one policy on every door. Each hostile Origin is sent, byte for byte over TCP (so a
 * header can be repeated or carry raw UTF-8), on the websocket upgrade, the engine.io polling
 * handshake, REST and the SSE stream, each time with a valid token so that only the Origin can
 * be the reason for the answer.
 */

interface OriginAnswers {
  websocket: [number, unknown];
  polling: [number, unknown];
  rest: [number, unknown];
  sse: [number, unknown];
  /** Any answer carries the hostile Origin back (body or header), or grants CORS. */
  echoedOrGranted: boolean;
  /** Transports of the ORIGIN_REJECTED lines, in order. */
  logged: string[];
}

const parse = parseBody;

async function onEveryDoor(ctx: AttackContext, originLines: string[]): Promise<OriginAnswers> {
  const user = await ctx.account('USER');
  const token = user.token();
  ctx.secret(token);
  const auth = `Authorization: Bearer ${token}`;
  const url = ctx.a.url;
  const mark = ctx.mark();
  const encode = (request: string): Buffer => Buffer.from(request, 'utf8');
  const websocket = await ctx.rawHttp(encode(rawUpgrade(url, originLines)));
  const polling = await ctx.rawHttp(encode(rawRequest(url, 'GET', '/socket.io/?EIO=4&transport=polling', originLines)));
  const rest = await ctx.rawHttp(encode(rawRequest(url, 'GET', '/notifications/unread-count', [...originLines, auth])));
  const sse = await ctx.rawHttp(encode(rawRequest(url, 'GET', '/notifications/stream', [...originLines, auth, 'Accept: text/event-stream'])));
  const hostileValues = originLines.map((line) => line.slice(line.indexOf(':') + 1).trim()).filter((value) => value !== ALLOWED_ORIGIN);
  const answers = [websocket, polling, rest, sse];
  const echoedOrGranted = answers.some(
    (answer) =>
      'access-control-allow-origin' in answer.headers ||
      hostileValues.some((value) => answer.body.includes(value) || Object.values(answer.headers).some((header) => header.includes(value))),
  );
  return {
    websocket: [websocket.status, parse(websocket.body)],
    polling: [polling.status, parse(polling.body)],
    rest: [rest.status, parse(rest.body)],
    sse: [sse.status, parse(sse.body)],
    echoedOrGranted,
    logged: ctx.securityEvents('ORIGIN_REJECTED', mark).map((entry) => String(entry.transport)),
  };
}

const REFUSED: OriginAnswers = {
  websocket: [403, ORIGIN_403],
  polling: [403, { code: 4, message: 'ORIGIN_NOT_ALLOWED' }],
  rest: [403, ORIGIN_403],
  sse: [403, ORIGIN_403],
  echoedOrGranted: false,
  logged: ['websocket', 'polling', 'http', 'sse'],
};

const RESPONSE = 'refused on every door: 403 on the upgrade, the polling handshake, REST and SSE; no echo, no CORS grant; ORIGIN_REJECTED logged per transport';

function originCase(name: string, origins: Record<string, string[]>): HostileCase {
  return hostile({
    name,
    category: 'origins',
    response: RESPONSE,
    expected: Object.fromEntries(Object.keys(origins).map((variant) => [variant, REFUSED])),
    attack: async (ctx) => {
      const answers: Record<string, OriginAnswers> = {};
      for (const [variant, lines] of Object.entries(origins)) answers[variant] = await onEveryDoor(ctx, lines);
      return answers;
    },
  });
}

const one = (origin: string): string[] => [`Origin: ${origin}`];

export const originCases: HostileCase[] = [
  originCase('Origin "null" (sandboxed iframe, file://, data: URL)', { null: one('null') }),
  originCase('suffix look-alike: the allowed host at the end of another', { suffix: one('https://evilapp.example.test'), subdomainOfAttacker: one('https://app.example.test.evil.test') }),
  originCase('prefix look-alike: the allowed origin at the start of another', { prefix: one('https://app.example.testevil.test'), dashed: one('https://app.example.test-evil.test') }),
  originCase('userinfo and path tricks around the allowed origin', { userinfo: one('https://app.example.test@evil.test'), trailingSlash: one(`${ALLOWED_ORIGIN}/`), path: one(`${ALLOWED_ORIGIN}/callback`) }),
  originCase('other scheme', { http: one('http://app.example.test'), wss: one('wss://app.example.test') }),
  originCase('other port, and the default port spelled out', { otherPort: one('https://app.example.test:8443'), defaultPort: one('https://app.example.test:443') }),
  originCase('mixed case', { host: one('https://APP.example.test'), scheme: one('HTTPS://app.example.test') }),
  originCase('punycode and a raw Unicode homograph', { punycode: one('https://xn--pp-8la.example.test'), cyrillic: one('https://\u0430pp.example.test') }),
  originCase('two Origin headers: the allowed one first, then a foreign one', { allowedThenForeign: [`Origin: ${ALLOWED_ORIGIN}`, 'Origin: https://evil.test'] }),
  originCase('two Origin headers: a foreign one first, then the allowed one; and the allowed one twice', {
    foreignThenAllowed: ['Origin: https://evil.test', `Origin: ${ALLOWED_ORIGIN}`],
    allowedTwice: [`Origin: ${ALLOWED_ORIGIN}`, `Origin: ${ALLOWED_ORIGIN}`],
  }),
  hostile({
    name: 'an 8 KB Origin with tabs (log flooding / log injection)',
    category: 'origins',
    response: `${RESPONSE}; the logged origin is at most 200 characters and holds no control character`,
    expected: { answers: REFUSED, loggedOriginsBounded: true },
    attack: async (ctx) => {
      const mark = ctx.mark();
      const answers = await onEveryDoor(ctx, one(`https://evil.test/\t${'a'.repeat(8000)}\tinjected`));
      const logged = ctx.securityEvents('ORIGIN_REJECTED', mark).map((entry) => String(entry.origin));
      return { answers, loggedOriginsBounded: logged.length === 4 && logged.every((origin) => origin.length <= 200 && !/[\u0000-\u001f]/.test(origin)) };
    },
  }),
];
