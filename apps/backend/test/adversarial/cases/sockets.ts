import WebSocket from 'ws';
import { call } from '../http';
import { engineOf, hostile, namespaceOf, type AttackContext, type HostileCase } from '../harness';
import { NS, poll, pollingHandshake, type RawEngine } from '../raw';
import { ORIGIN_403, settle } from './common';

/**
 * Sockets (docs/SECURITY.md lists the findings): what one engine.io connection may cost the server —
 * CONNECT storms, refused events, inbound floods — and whether a polling session's id alone
 * lets another peer in. Each flood prints the control user's delivery p99 on the other
 * instance during it, next to the figure just before it (docs/SECURITY.md records them).
 */

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());
const BOGUS = { token: 'not-a-token' };
const UNKNOWN_SID = { code: 1, message: 'Session ID unknown' };
/** Another peer on this machine: the server sees a different address. */
const OTHER_PEER = '127.0.0.2';

/** Runs `flood` with the control publishing; prints the control's delivery p99 before and during it. */
async function measured<T>(ctx: AttackContext, name: string, flood: () => Promise<T>): Promise<T> {
  const idleFrom = Date.now();
  await sleep(1000);
  const floodFrom = Date.now();
  const result = await flood();
  await sleep(500);
  const idle = ctx.harness.control.deliveryP99(idleFrom, floodFrom);
  const during = ctx.harness.control.deliveryP99(floodFrom);
  process.stdout.write(`adversarial sockets: ${name}: control delivery p99 on B ${during.p99} ms during (${during.samples} samples), ${idle.p99} ms idle before\n`);
  return result;
}

const closedWithin = async (raw: RawEngine, ms: number): Promise<boolean> => {
  await Promise.race([raw.closed, sleep(ms)]);
  return raw.isClosed();
};

const answersOf = (raw: RawEngine, prefix: string): string[] => raw.frames.map(String).filter((frame) => frame.startsWith(prefix));

/** A websocket upgrade onto an existing session from `localAddress`; the HTTP status, or 101. */
function upgradeWithSid(url: string, sid: string, localAddress: string, origin?: string): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket&sid=${encodeURIComponent(sid)}`, {
      headers: origin ? { origin } : {},
      localAddress,
      perMessageDeflate: false,
    });
    ws.on('error', () => undefined);
    ws.once('unexpected-response', (_request, response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('open', () => {
      resolve(101);
      ws.terminate();
    });
  });
}

export const socketCases: HostileCase[] = [
  hostile({
    name: '1000 namespace CONNECTs with a bogus token on one engine connection (CONNECT storm)',
    category: 'protocol',
    response:
      'disconnect: the third CONNECT closes the engine connection (WS_MAX_CONNECT_ATTEMPTS 2); at most two AUTHENTICATION_FAILED lines; a legitimate client from the same IP still connects',
    expected: { closed: true, refusalsAnswered: 'at most 2', authFailuresLogged: 'at most 2', sameIpClient: 'CONNECTED' },
    attack: async (ctx) => {
      const mark = ctx.mark();
      let raw: RawEngine | undefined;
      const closed = await measured(ctx, 'CONNECT storm', async () => {
        // Opened here: the authentication deadline (1 s in this suite) must not be what closes it.
        raw = await ctx.raw();
        for (let i = 0; i < 1000; i += 1) raw.send(`40${NS},${JSON.stringify(BOGUS)}`);
        return closedWithin(raw, 300);
      });
      if (!raw) throw new Error('no connection');
      const user = await ctx.account('USER');
      const refusals = answersOf(raw, `44${NS},`).length;
      const failures = ctx.securityEvents('AUTHENTICATION_FAILED', mark).length;
      return {
        closed,
        refusalsAnswered: refusals <= 2 ? 'at most 2' : refusals,
        authFailuresLogged: failures <= 2 ? 'at most 2' : failures,
        sameIpClient: await ctx.connectError({ token: user.token() }),
      };
    },
  }),
  hostile({
    name: 'a USER floods notification:create (refused by role) and the budget it never paid for',
    category: 'protocol',
    response:
      'refused, then disconnected: the first WS_RATE_LIMIT_POINTS (20) are FORBIDDEN and spend the budget, the rest RATE_LIMITED; past WS_MAX_REFUSALS (50) refusals the session ends; the user\'s next event elsewhere is RATE_LIMITED',
    expected: { forbidden: 20, rateLimited: true, sessionEnded: true, nextEventElsewhere: 'RATE_LIMITED' },
    attack: async (ctx) => {
      const user = await ctx.account('USER');
      const raw = await ctx.joined(user.token());
      const create = (i: number): string => `42${NS},${i}["notification:create",{"title":"t","content":"c","scope":"TENANT"}]`;
      const codesOf = (from: number, to: number): (string | undefined)[] =>
        answersOf(raw, `43${NS},`)
          .filter((frame) => Number(/^43\/notifications,(\d+)/.exec(frame)?.[1]) >= from && Number(/^43\/notifications,(\d+)/.exec(frame)?.[1]) < to)
          .map((frame) => (JSON.parse(frame.slice(frame.indexOf('['))) as [{ error?: { code: string } }])[0].error?.code);
      const ended = await measured(ctx, 'forbidden-event flood', async () => {
        // First the budget's worth (each refused by the role guard), then 40 more: bursts under
        // WS_INBOUND_FRAMES_PER_SEC (100), so what ends the session is the refusal count.
        for (let i = 0; i < 20; i += 1) raw.send(create(i));
        for (let i = 0; i < 100 && codesOf(0, 20).length < 20; i += 1) await settle(25);
        for (let i = 20; i < 60; i += 1) raw.send(create(i));
        return closedWithin(raw, 5000);
      });
      const acks = codesOf(0, 20);
      const rest = codesOf(20, 60);
      const elsewhere = await ctx.joined(user.token(), {}, ctx.b);
      elsewhere.send(`42${NS},1["notification:sync",{"limit":1}]`);
      const answer = await elsewhere.waitFor((frame) => frame.startsWith(`43${NS},1`));
      return {
        forbidden: acks.filter((code) => code === 'FORBIDDEN').length,
        rateLimited: rest.length > 0 && rest.every((code) => code === 'RATE_LIMITED'),
        sessionEnded: ended,
        nextEventElsewhere: (JSON.parse(answer.slice(answer.indexOf('['))) as [{ ok: boolean; error?: { code: string } }])[0].error?.code ?? 'OK',
      };
    },
  }),
  hostile({
    name: 'a polling session hijacked by its sid: another peer, a foreign Origin, a websocket upgrade, a preflight',
    category: 'protocol',
    response:
      'refused: from another peer the sid is unknown (400, polling and upgrade); from a foreign Origin 403 on GET, POST and OPTIONS (not 500); the victim keeps its session; SECURITY_VIOLATION logged',
    expected: {
      otherPeerPoll: [400, UNKNOWN_SID],
      otherPeerUpgrade: 400,
      foreignOriginPoll: [403, ORIGIN_403],
      foreignOriginPost: [403, ORIGIN_403],
      foreignOriginPreflight: [403, ORIGIN_403],
      victimStillJoined: true,
      logged: true,
    },
    attack: async (ctx) => {
      const url = ctx.a.url;
      const user = await ctx.account('USER');
      ctx.secret(user.token());
      const mark = ctx.mark();
      const handshake = await pollingHandshake(url);
      const sid = handshake.sid ?? '';
      ctx.defer(() => poll(url, sid, '1').catch(() => undefined));
      await poll(url, sid, `40${NS},${JSON.stringify({ token: user.token() })}`);
      const joined = await poll(url, sid);
      const socketId = (JSON.parse(joined.text.slice(joined.text.indexOf('{'))) as { sid?: string }).sid;
      const path = `/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`;
      const answer = async (options: Parameters<typeof call>[2]): Promise<[number, unknown]> => {
        const reply = await ctx.http(path, { timeoutMs: 2000, ...options }).catch((error: Error) => ({ status: 0, body: error.message }));
        return [reply.status, reply.body];
      };
      const outcome = {
        otherPeerPoll: await answer({ origin: null, localAddress: OTHER_PEER }),
        otherPeerUpgrade: await upgradeWithSid(url, sid, OTHER_PEER),
        foreignOriginPoll: await answer({ origin: 'http://evil.test' }),
        foreignOriginPost: await answer({ origin: 'http://evil.test', method: 'POST', body: '2probe', headers: { 'content-type': 'text/plain;charset=UTF-8' } }),
        foreignOriginPreflight: await answer({ origin: 'http://evil.test', method: 'OPTIONS', headers: { 'access-control-request-method': 'POST' } }),
        victimStillJoined: socketId !== undefined && namespaceOf(ctx.a).sockets.has(socketId) && engineOf(ctx.a).clients[sid] !== undefined,
        logged: ctx.securityEvents('SECURITY_VIOLATION', mark).some((entry) => String(entry.reason).includes('another peer')),
      };
      await settle(50);
      return outcome;
    },
  }),
  hostile({
    name: 'inbound floods per connection: 15 KB pongs before joining, 200 small and 15 KB unknown events after',
    category: 'protocol',
    response: 'disconnect: each connection is closed once over WS_INBOUND_BYTES_PER_SEC or WS_INBOUND_FRAMES_PER_SEC, authenticated or not; SECURITY_VIOLATION logged',
    expected: { anonymousPongs: true, smallUnknownEvents: true, largeUnknownEvents: true, logged: true },
    attack: async (ctx) => {
      const mark = ctx.mark();
      const user = await ctx.account('USER');
      const big = 'x'.repeat(15_000);
      const small = await ctx.joined(user.token());
      const large = await ctx.joined(user.token());
      const outcome = await measured(ctx, 'inbound floods', async () => {
        // Opened here: the authentication deadline (1 s in this suite) must not be what closes it.
        const pongs = await ctx.raw({ autoPong: false });
        for (let i = 0; i < 200; i += 1) {
          pongs.send(`3${big}`);
          small.send(`42${NS},["no:such:event",${i}]`);
          large.send(`42${NS},["no:such:event","${big}"]`);
        }
        return {
          anonymousPongs: await closedWithin(pongs, 300),
          smallUnknownEvents: await closedWithin(small, 2000),
          largeUnknownEvents: await closedWithin(large, 2000),
        };
      });
      return { ...outcome, logged: ctx.securityEvents('SECURITY_VIOLATION', mark).some((entry) => /inbound-(frames|bytes) over its bound/.test(String(entry.reason))) };
    },
  }),
];


