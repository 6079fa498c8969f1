import { createHmac } from 'node:crypto';
import type { NotificationView } from '@notify-gateway/contracts';
import { NotificationService } from '../../src/notifications/notification.service';
import { http } from '../support/http';
import { scrape, total } from '../support/metrics';
import { freePort } from '../support/ports';
import { uniquePrefix } from '../support/redis-server';
import { freshUser, mintTicket, notificationsOf, openStream, type StreamClient, type TestUser } from '../support/sse';
import { collect, connect, refusal, settle, type ClientSocket } from '../support/sockets';
import { idpKey, JwksServer } from '../support/jwks-server';
import { startApp, type RunningApp } from '../support/test-app';

/**
 * Key rotation through a JWKS URL, on two instances sharing a Redis, with the
 * identity provider played by a local JWKS server: A → A+B → B under 50 live sockets and 10
 * SSE streams, then the JWKS server goes down.
 */
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Lifetime of the A tokens the live sessions hold: long enough for the rotation to happen under them. */
const A_LIFETIME_SEC = 20;
const COOLDOWN_MS = 1000;
const USERS = 5;
const SOCKETS_PER_USER = 10;
const STREAMS_PER_USER = 2;

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

function jwksEnv(server: JwksServer): Record<string, string> {
  // No primary key: the identity provider's keys are the only ones.
  return { JWT_SECRET: '', JWT_JWKS_URL: server.url, JWT_JWKS_COOLDOWN_SEC: String(COOLDOWN_MS / 1000), JWT_JWKS_REFRESH_SEC: '3600', JWT_CLOCK_TOLERANCE_SEC: '0' };
}

async function doors(app: RunningApp, token: string): Promise<{ websocket: string; rest: number; sse: number }> {
  const websocket = await refusal(app.url, { token });
  const rest = (await http(`${app.url}/notifications/unread-count`, { token })).status;
  const stream = await openStream(app.url, { token });
  stream.close();
  return { websocket, rest, sse: stream.status };
}
const OPEN = { websocket: 'CONNECTED', rest: 200, sse: 200 };
const REFUSED = { websocket: 'UNAUTHORIZED', rest: 401, sse: 401 };

describe('key rotation through a JWKS URL, two instances', () => {
  const keyA = idpKey('idp-2026-a');
  const keyB = idpKey('idp-2026-b');
  let jwks: JwksServer;
  let a: RunningApp;
  let b: RunningApp;
  let users: TestUser[];
  const sockets: { socket: ClientSocket; user: TestUser; inbox: NotificationView[]; ends: string[] }[] = [];
  const streams: { stream: StreamClient; user: TestUser }[] = [];

  const tokenA = (user: TestUser, lifetime = A_LIFETIME_SEC): string => keyA.sign({ sub: user.id }, { expiresIn: lifetime });
  const tokenB = (user: TestUser): string => keyB.sign({ sub: user.id });

  beforeAll(async () => {
    jwks = await JwksServer.start([keyA]);
    const env = { ...jwksEnv(jwks), REDIS_URL, REDIS_KEY_PREFIX: uniquePrefix('rotation') };
    [a, b] = await Promise.all([startApp(env), startApp(env)]);
    users = await Promise.all(Array.from({ length: USERS }, () => freshUser('admin@acme.test')));
  });
  afterAll(async () => {
    for (const { socket } of sockets) socket.close();
    for (const { stream } of streams) stream.close();
    await Promise.all([a?.close(), b?.close()]);
    await jwks?.stop().catch(() => undefined);
  });

  it('A → A+B → B under 50 live sockets and 10 SSE streams: none drops before its own token expires; B tokens are accepted', async () => {
    // Phase A: every live session holds an A token.
    const firstExpiresAt = Date.now() + A_LIFETIME_SEC * 1000 - 1000;
    const apps = [a, b];
    for (const [u, user] of users.entries()) {
      for (let i = 0; i < SOCKETS_PER_USER; i += 1) {
        const socket = await connect(apps[i % 2].url, { token: tokenA(user) });
        const entry = { socket, user, inbox: collect(socket, 'notification:new'), ends: [] as string[] };
        socket.on('notification:session-expiring', (event) => entry.ends.push(event.code));
        sockets.push(entry);
      }
      for (let i = 0; i < STREAMS_PER_USER; i += 1) streams.push({ stream: await openStream(apps[(u + i) % 2].url, { token: tokenA(user) }), user });
    }
    expect(sockets).toHaveLength(50);
    expect(streams.every(({ stream }) => stream.status === 200)).toBe(true);
    const aExpiresAt = Date.now() + A_LIFETIME_SEC * 1000;

    // Phase A+B: the provider publishes B beside A; a B token (unknown kid) makes each instance refetch.
    await settle(COOLDOWN_MS + 100);
    jwks.serve([keyA, keyB]);
    expect(await doors(a, tokenB(users[0]))).toEqual(OPEN);
    expect(await doors(b, tokenB(users[0]))).toEqual(OPEN);
    expect(await doors(a, tokenA(users[0]))).toEqual(OPEN);
    // One A token, verified by both instances before A goes: they remember that verification.
    const heldA = tokenA(users[2]);
    expect(await doors(a, heldA)).toEqual(OPEN);
    expect(await doors(b, heldA)).toEqual(OPEN);

    // Phase B: A is removed. An unknown kid after the cooldown makes each instance refetch.
    jwks.serve([keyB]);
    await settle(COOLDOWN_MS + 100);
    const unknownKid = keyB.sign({ sub: users[0].id }, { keyid: 'idp-2026-c' });
    expect(await doors(a, unknownKid)).toEqual(REFUSED);
    expect(await doors(b, unknownKid)).toEqual(REFUSED);
    expect(await doors(a, tokenA(users[1]))).toEqual(REFUSED);
    expect(await doors(b, tokenA(users[1]))).toEqual(REFUSED);
    // The very token they verified with A is refused too: a remembered verification holds only while its key does.
    expect(await doors(a, heldA)).toEqual(REFUSED);
    expect(await doors(b, heldA)).toEqual(REFUSED);
    expect(await doors(a, tokenB(users[1]))).toEqual(OPEN);
    expect(await doors(b, tokenB(users[1]))).toEqual(OPEN);
    expect(a.logs.securityEvents('AUTHENTICATION_FAILED').some((entry) => entry.reason === 'UNKNOWN_KEY')).toBe(true);

    // Every live session on an A token is still there, and still delivered to.
    expect(Date.now()).toBeLessThan(firstExpiresAt);
    expect(sockets.filter(({ socket }) => !socket.connected)).toEqual([]);
    expect(streams.filter(({ stream }) => stream.isEnded())).toEqual([]);
    const service = a.app.get(NotificationService);
    const sent = await Promise.all(users.map((user) => service.sendToUser(user.id, { title: `rotation-${user.id}`, content: 'after A was removed' })));
    for (let i = 0; i < 100 && !sockets.every(({ user, inbox }) => inbox.some((n) => n.title === `rotation-${user.id}`)); i += 1) await settle(50);
    expect(sockets.filter(({ user, inbox }) => !inbox.some((n) => n.title === `rotation-${user.id}`))).toEqual([]);
    await Promise.all(streams.map(({ stream, user }) => stream.waitFor((message) => notificationsOf([message], `rotation-${user.id}`).length === 1)));
    expect(sent).toHaveLength(USERS);

    // At their own exp, and only then, they end: TOKEN_EXPIRED on every socket and stream.
    await settle(Math.max(aExpiresAt - Date.now(), 0) + 1500);
    expect(sockets.filter(({ socket }) => socket.connected)).toEqual([]);
    expect(sockets.filter(({ ends }) => ends.join() !== 'TOKEN_EXPIRED')).toEqual([]);
    await Promise.all(streams.map(({ stream }) => stream.ended));
    expect(streams.map(({ stream }) => stream.messages.at(-1))).toEqual(streams.map(() => expect.objectContaining({ event: 'notification:session-expiring', data: { code: 'TOKEN_EXPIRED' } })));
  }, 60_000);

  it('an SSE client resumes after TOKEN_EXPIRED with a ticket for a B token and its Last-Event-ID', async () => {
    const { stream, user } = streams[0];
    const lastId = [...stream.messages].reverse().find((message) => message.id !== undefined)?.id;
    expect(lastId).toBeDefined();
    const missed = await a.app.get(NotificationService).sendToUser(user.id, { title: `missed-${user.id}`, content: 'while the stream was down' });
    const ticket = await mintTicket(b.url, tokenB(user));
    const resumed = await openStream(b.url, { ticket, lastEventId: lastId });
    try {
      expect(resumed.status).toBe(200);
      const replayed = await resumed.waitFor((message) => message.event === 'notification:new');
      expect((replayed.data as NotificationView).id).toBe(missed.id);
    } finally {
      resumed.close();
    }
  });

  it('refuses HS/RS confusion through a JWKS kid: HS256 signed with the published key', async () => {
    const user = users[0];
    const now = Math.floor(Date.now() / 1000);
    const body = `${b64({ alg: 'HS256', typ: 'JWT', kid: keyB.kid })}.${b64({ sub: user.id, iat: now, exp: now + 600 })}`;
    for (const secret of [keyB.publicPem, Buffer.from(String(keyB.jwk.n), 'base64url'), JSON.stringify(keyB.jwk)]) {
      const forged = `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
      expect(await doors(a, forged)).toEqual(REFUSED);
    }
    expect(a.logs.securityEvents('AUTHENTICATION_FAILED').some((entry) => entry.reason === 'ALGORITHM_MISMATCH')).toBe(true);
  });

  it('the JWKS server going down keeps verification working on the cached keys', async () => {
    const before = total(await scrape(a.url), 'notify_jwks_refresh_failures_total');
    await jwks.stop();
    await settle(COOLDOWN_MS + 100);
    // An unknown kid makes the instance try the (down) server: refused, counted, logged, nothing else changes.
    expect(await doors(a, keyB.sign({ sub: users[2].id }, { keyid: 'idp-2026-d' }))).toEqual(REFUSED);
    expect(total(await scrape(a.url), 'notify_jwks_refresh_failures_total')).toBeGreaterThan(before);
    expect(total(await scrape(a.url), 'notify_jwks_keys')).toBe(1);
    expect(a.logs.lines.some((line) => line.includes('JWKS refresh failed; keeping the last good key set'))).toBe(true);
    for (const app of [a, b]) expect(await doors(app, tokenB(users[2]))).toEqual(OPEN);
    const live = await connect(b.url, { token: tokenB(users[3]) });
    await settle(200);
    expect(live.connected).toBe(true);
    live.close();
  });
});

describe('JWKS URL at boot', () => {
  async function bootError(env: Record<string, string>): Promise<{ variable?: string; message?: string }> {
    try {
      const running = await startApp(env);
      await running.close();
      return {};
    } catch (error) {
      return { variable: (error as { variable?: string }).variable, message: (error as Error).message };
    }
  }

  it('an unreachable JWKS URL stops the boot naming JWT_JWKS_URL', async () => {
    const port = await freePort();
    const error = await bootError({ JWT_SECRET: '', JWT_JWKS_URL: `http://127.0.0.1:${port}/jwks.json`, JWT_JWKS_TIMEOUT_MS: '1000' });
    expect(error.variable).toBe('JWT_JWKS_URL');
    expect(error.message).toMatch(/could not be loaded at boot/);
  });

  it.each<[string, (server: JwksServer) => void, RegExp]>([
    ['an invalid document', (server) => server.serveRaw('{"keys": 42}'), /JWKS document/],
    ['a document with no usable key', (server) => server.serveRaw(JSON.stringify({ keys: [{ kty: 'oct', kid: 'hs', k: 'c2VjcmV0' }] })), /no usable/],
    ['a document larger than JWT_JWKS_MAX_BYTES', (server) => server.serveRaw(JSON.stringify({ keys: [idpKey('big').jwk], pad: 'x'.repeat(4096) })), /JWT_JWKS_MAX_BYTES/],
  ])('%s stops the boot naming JWT_JWKS_URL', async (_name, prepare, reason) => {
    const server = await JwksServer.start();
    try {
      prepare(server);
      const error = await bootError({ JWT_SECRET: '', JWT_JWKS_URL: server.url, JWT_JWKS_MAX_BYTES: '2048' });
      expect(error.variable).toBe('JWT_JWKS_URL');
      expect(error.message).toMatch(reason);
    } finally {
      await server.stop();
    }
  });
});

