import { randomUUID } from 'node:crypto';
import { decode, sign } from 'jsonwebtoken';
import type { LoginResponse } from '@notify-gateway/contracts';
import { PasswordHasher } from '../../src/auth/password-hasher';
import { ConnectionService } from '../../src/notifications/connection.service';
import { http } from '../support/http';
import { uniquePrefix } from '../support/redis-server';
import { mintTicket, openStream } from '../support/sse';
import { connect, nextEvent, refusal, settle, waitForDisconnect, type ClientSocket } from '../support/sockets';
import { startApp, TEST_JWT_SECRET, type RunningApp } from '../support/test-app';
import { demoUser, sql } from '../support/users';

/**
 * Revocation on two instances sharing a Redis: logout by jti, the per-user
 * not-before of disconnectUser(…, { revokeTokens: true }), on socket.io, REST and SSE.
 */
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PASSWORD = 'Revocation-test-pass-1';

interface LoginUser {
  id: string;
  email: string;
}

async function loginUser(): Promise<LoginUser> {
  const { tenantId } = await demoUser('admin@acme.test');
  const email = `revoke-${randomUUID()}@tokens.test`;
  const hash = await new PasswordHasher().hash(PASSWORD);
  const [row] = await sql<{ id: string }>(
    `INSERT INTO users (id, email, password_hash, role, is_active, tenant_id, updated_at)
     VALUES (gen_random_uuid(), $1, $2, 'USER', true, $3, now()) RETURNING id`,
    [email, hash, tenantId],
  );
  return { id: row.id, email };
}

async function login(app: RunningApp, user: LoginUser): Promise<string> {
  const response = await http<LoginResponse>(`${app.url}/auth/login`, { body: { email: user.email, password: PASSWORD } });
  if (response.status !== 200) throw new Error(`login answered ${response.status}`);
  return response.body.accessToken;
}

/** What each door answers for `token` on `app`: socket.io connect, REST, SSE with a Bearer header. */
async function doors(app: RunningApp, token: string): Promise<{ websocket: string; rest: number; sse: number }> {
  const websocket = await refusal(app.url, { token });
  const rest = (await http(`${app.url}/notifications/unread-count`, { token })).status;
  const stream = await openStream(app.url, { token });
  stream.close();
  return { websocket, rest, sse: stream.status };
}

/** Polls REST on `app` until it answers 401 for `token`, for at most `ms`. */
async function refusedWithin(app: RunningApp, token: string, ms: number): Promise<boolean> {
  const started = Date.now();
  do {
    if ((await http(`${app.url}/notifications/unread-count`, { token })).status === 401) {
      process.stdout.write(`revocation seen by the other instance ${Date.now() - started} ms after the logout answered\n`);
      return true;
    }
    await settle(25);
  } while (Date.now() < started + ms);
  return false;
}

const OPEN = { websocket: 'CONNECTED', rest: 200, sse: 200 };
const REFUSED = { websocket: 'UNAUTHORIZED', rest: 401, sse: 401 };

describe('token revocation across two instances', () => {
  let a: RunningApp;
  let b: RunningApp;
  const sockets: ClientSocket[] = [];

  beforeAll(async () => {
    const env = { REDIS_URL, REDIS_KEY_PREFIX: uniquePrefix('revocation'), JWT_KEY_ID: 'primary-2026' };
    [a, b] = await Promise.all([startApp(env), startApp(env)]);
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await Promise.all([a?.close(), b?.close()]);
  });

  async function open(app: RunningApp, token: string): Promise<ClientSocket> {
    const socket = await connect(app.url, { token });
    sockets.push(socket);
    return socket;
  }

  it('login tokens carry a jti, an iat and the primary key id', async () => {
    const token = await login(a, await loginUser());
    const decoded = decode(token, { complete: true });
    expect(decoded?.header.kid).toBe('primary-2026');
    expect(decoded?.payload).toEqual(expect.objectContaining({ jti: expect.stringMatching(/^[0-9a-f-]{36}$/), iat: expect.any(Number) }));
  });

  it('POST /auth/logout on A refuses that token on B within 1 s over socket.io, REST and SSE; the user\'s other token still works', async () => {
    const user = await loginUser();
    const token = await login(a, user);
    const other = await login(a, user);
    // Taken before the logout: a ticket of the revoked token must die with it.
    const ticket = await mintTicket(b.url, token);
    const live = await open(b, token);
    const liveOther = await open(b, other);
    const liveStream = await openStream(b.url, { token });
    expect(await doors(b, token)).toEqual(OPEN);

    const notice = nextEvent(live, 'notification:session-expiring');
    const logout = await http(`${a.url}/auth/logout`, { method: 'POST', token });
    expect(logout.status).toBe(204);
    // The bound: B refuses it within 1 s of the logout's answer.
    expect(await refusedWithin(b, token, 1000)).toBe(true);

    // The live socket and stream on B on that token end with TOKEN_REVOKED.
    expect(await notice).toEqual({ code: 'TOKEN_REVOKED' });
    await waitForDisconnect(live);
    await liveStream.waitFor((message) => message.event === 'notification:session-expiring');
    expect(liveStream.messages.at(-1)?.data).toEqual({ code: 'TOKEN_REVOKED' });
    expect(await doors(b, token)).toEqual(REFUSED);
    const viaTicket = await openStream(b.url, { ticket });
    expect(viaTicket.status).toBe(401);
    expect(await doors(a, token)).toEqual(REFUSED);
    expect(b.logs.securityEvents('AUTHENTICATION_FAILED').some((entry) => entry.reason === 'TOKEN_REVOKED')).toBe(true);

    // The same user's other session is not touched.
    await settle(200);
    expect(liveOther.connected).toBe(true);
    expect(await doors(b, other)).toEqual(OPEN);
    // A second logout of a revoked token is refused: it is no longer a credential.
    expect((await http(`${b.url}/auth/logout`, { method: 'POST', token })).status).toBe(401);
  });

  it('disconnectUser(…, { revokeTokens: true }) refuses the old token on both instances; a fresh login works at once', async () => {
    const user = await loginUser();
    const old = await login(a, user);
    const onA = await open(a, old);
    const onB = await open(b, old);
    const notices = [nextEvent(onA, 'notification:session-expiring'), nextEvent(onB, 'notification:session-expiring')];

    await a.app.get(ConnectionService).disconnectUser(user.id, { revokeTokens: true });

    expect(await Promise.all(notices)).toEqual([{ code: 'TOKEN_REVOKED' }, { code: 'TOKEN_REVOKED' }]);
    await Promise.all([waitForDisconnect(onA), waitForDisconnect(onB)]);
    expect(await doors(a, old)).toEqual(REFUSED);
    expect(await doors(b, old)).toEqual(REFUSED);

    const fresh = await login(b, user);
    expect(await doors(a, fresh)).toEqual(OPEN);
    expect(await doors(b, fresh)).toEqual(OPEN);
    const freshSocket = await open(a, fresh);
    await settle(200);
    expect(freshSocket.connected).toBe(true);
  });

  it('with revokeTokens and a reason (a deactivation), the sessions on both instances are told that reason', async () => {
    const user = await loginUser();
    const old = await login(a, user);
    const onA = await open(a, old);
    const onB = await open(b, old);
    const notices = [nextEvent(onA, 'notification:session-expiring'), nextEvent(onB, 'notification:session-expiring')];
    await b.app.get(ConnectionService).disconnectUser(user.id, { revokeTokens: true, reason: 'USER_DISCONNECTED' });
    expect(await Promise.all(notices)).toEqual([{ code: 'USER_DISCONNECTED' }, { code: 'USER_DISCONNECTED' }]);
    expect(await doors(a, old)).toEqual(REFUSED);
  });

  it('an identity provider\'s token without jti or iat is revoked through the service: refused after, a later one accepted', async () => {
    const user = await loginUser();
    const external = sign({ sub: user.id }, TEST_JWT_SECRET, { algorithm: 'HS256', expiresIn: 600, noTimestamp: true });
    expect(await doors(b, external)).toEqual(OPEN);
    await b.app.get(ConnectionService).revokeUserTokens(user.id);
    expect(await doors(a, external)).toEqual(REFUSED);
    await settle(1100); // iat has whole seconds: the next token must be issued in a later second
    const later = sign({ sub: user.id }, TEST_JWT_SECRET, { algorithm: 'HS256', expiresIn: 600 });
    expect(await doors(a, later)).toEqual(OPEN);
  });

  it('the old disconnectUser(userId, reason) still only ends sessions: the token is not revoked', async () => {
    const user = await loginUser();
    const token = await login(a, user);
    const socket = await open(b, token);
    const notice = nextEvent(socket, 'notification:session-expiring');
    a.app.get(ConnectionService).disconnectUser(user.id, 'USER_DISCONNECTED');
    expect(await notice).toEqual({ code: 'USER_DISCONNECTED' });
    expect(await doors(b, token)).toEqual(OPEN);
  });

  it('an instance started after the revocations loads them from Redis', async () => {
    const user = await loginUser();
    const loggedOut = await login(a, user);
    expect((await http(`${a.url}/auth/logout`, { method: 'POST', token: loggedOut })).status).toBe(204);
    const c = await startApp({ REDIS_URL, REDIS_KEY_PREFIX: a.config.redisKeyPrefix, JWT_KEY_ID: 'primary-2026' });
    try {
      expect(await doors(c, loggedOut)).toEqual(REFUSED);
      expect(await doors(c, await login(c, user))).toEqual(OPEN);
    } finally {
      await c.close();
    }
  });
});

describe('revocation on a single instance (no Redis)', () => {
  let running: RunningApp;
  beforeAll(async () => {
    running = await startApp();
  });
  afterAll(() => running.close());

  it('logout and the per-user not-before work from memory alone', async () => {
    const user = await loginUser();
    const token = await login(running, user);
    expect((await http(`${running.url}/auth/logout`, { method: 'POST', token })).status).toBe(204);
    expect(await doors(running, token)).toEqual(REFUSED);
    const second = await login(running, user);
    expect(await doors(running, second)).toEqual(OPEN);
    await running.app.get(ConnectionService).disconnectUser(user.id, { revokeTokens: true });
    expect(await doors(running, second)).toEqual(REFUSED);
    expect(await doors(running, await login(running, user))).toEqual(OPEN);
  });

  it('POST /auth/logout without a token is 401', async () => {
    expect((await http(`${running.url}/auth/logout`, { method: 'POST' })).status).toBe(401);
  });
});
