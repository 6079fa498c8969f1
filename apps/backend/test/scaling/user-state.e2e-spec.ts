import { randomUUID } from 'node:crypto';
import { sign } from 'jsonwebtoken';
import type { NotificationView, Role } from '@notify-gateway/contracts';
import { UserStateChannel } from '../../src/auth/user-state-channel';
import { ConnectionService } from '../../src/notifications/connection.service';
import { UserAccountService } from '../../src/users/user-account.service';
import { http, publish, uniqueTitle } from '../support/http';
import { uniquePrefix } from '../support/redis-server';
import { isNotification, notificationsOf, openStream, type StreamClient } from '../support/sse';
import { collect, connect, nextEvent, refusal, request, settle, type ClientSocket } from '../support/sockets';
import { startApp, TEST_JWT_SECRET, type RunningApp } from '../support/test-app';
import { demoUser, sql, tokenFor, type DemoEmail } from '../support/users';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** A change takes effect on every instance within this, with the cache on. */
const WITHIN_MS = 1000;

interface Account {
  id: string;
  token: string;
}

async function account(role: Role, tenantOf: DemoEmail = 'admin@acme.test'): Promise<Account> {
  const { tenantId } = await demoUser(tenantOf);
  const [row] = await sql<{ id: string }>(
    `INSERT INTO users (id, email, password_hash, role, is_active, tenant_id, updated_at)
     VALUES (gen_random_uuid(), $1, '!', $2::"Role", true, $3, now()) RETURNING id`,
    [`state-${randomUUID()}@user-state.test`, role, tenantId],
  );
  return { id: row.id, token: sign({ sub: row.id }, TEST_JWT_SECRET, { algorithm: 'HS256', expiresIn: 900 }) };
}

/** A user's sessions: a socket and an SSE stream on each instance. */
interface Sessions {
  sockets: ClientSocket[];
  inboxes: NotificationView[][];
  streams: StreamClient[];
  close(): void;
}

async function sessionsOn(apps: RunningApp[], token: string): Promise<Sessions> {
  const sockets: ClientSocket[] = [];
  const streams: StreamClient[] = [];
  for (const app of apps) {
    sockets.push(await connect(app.url, { token }));
    streams.push(await openStream(app.url, { token }));
  }
  return {
    sockets,
    streams,
    inboxes: sockets.map((socket) => collect(socket, 'notification:new')),
    close: () => {
      for (const client of [...sockets, ...streams]) client.close();
    },
  };
}

/** How many of the user's four sessions received the notification titled `title`. */
function receivedBy(sessions: Sessions, title: string): number {
  return sessions.inboxes.filter((inbox) => inbox.some((n) => n.title === title)).length + sessions.streams.filter((stream) => notificationsOf(stream.messages, title).length > 0).length;
}

/** Creates over the socket until refused, for at most `ms`; the last ack. */
async function createRefusedWithin(socket: ClientSocket, ms: number): Promise<unknown> {
  const deadline = Date.now() + ms;
  let ack: unknown;
  do {
    ack = await request(socket, 'notification:create', { title: uniqueTitle('still admin?'), content: 'c', scope: 'TENANT' });
    if ((ack as { ok: boolean }).ok === false) return ack;
    await settle(50);
  } while (Date.now() < deadline);
  return ack;
}

/** Publishes a TENANT broadcast (by `adminOf`) and a notification to `userId`; waits for the latter on all four sessions. */
async function broadcastAndOwn(app: RunningApp, sessions: Sessions, userId: string, adminOf: DemoEmail): Promise<{ tenant: number; own: number }> {
  const [tenant, own] = [uniqueTitle('tenant broadcast'), uniqueTitle('own')];
  const admin = await tokenFor(adminOf);
  expect((await publish(app.url, admin, { title: tenant, content: 'c', scope: 'TENANT' })).status).toBe(201);
  expect((await publish(app.url, admin, { title: own, content: 'c', userId })).status).toBe(201);
  await Promise.all(sessions.streams.map((stream) => stream.waitFor(isNotification(own), 5000)));
  for (let i = 0; i < 50 && receivedBy(sessions, own) < sessions.sockets.length * 2; i += 1) await settle(50);
  await settle(200);
  return { tenant: receivedBy(sessions, tenant), own: receivedBy(sessions, own) };
}

async function tenantItemsInSync(socket: ClientSocket): Promise<number> {
  const ack = await request(socket, 'notification:sync', { limit: 100 });
  if (!ack.ok) throw new Error(`sync failed: ${JSON.stringify(ack)}`);
  return ack.notifications.filter((n) => n.scope === 'TENANT').length;
}

describe('user state on two instances with the user-state cache on (TTL 5 min: only invalidation explains a change)', () => {
  let a: RunningApp;
  let b: RunningApp;

  beforeAll(async () => {
    const env = { REDIS_URL, REDIS_KEY_PREFIX: uniquePrefix('user-state'), USER_STATE_CACHE_TTL_MS: '300000', USER_STATE_SWEEP_INTERVAL_MS: '3600000' };
    [a, b] = [await startApp(env), await startApp(env)];
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('the cache is on: a change made behind its back (SQL, nobody told) is not seen by REST until invalidated', async () => {
    const user = await account('USER');
    expect((await http(`${b.url}/notifications/unread-count`, { token: user.token })).status).toBe(200);
    await sql('UPDATE users SET is_active = false WHERE id = $1', [user.id]);
    expect((await http(`${b.url}/notifications/unread-count`, { token: user.token })).status).toBe(200);
    // UserStateChannel.invalidate is the hook for changes made elsewhere (revocation, a host's own update).
    await a.app.get(UserStateChannel).invalidate(user.id);
    let status = 0;
    for (const deadline = Date.now() + WITHIN_MS; Date.now() < deadline && status !== 401; await settle(50)) {
      status = (await http(`${b.url}/notifications/unread-count`, { token: user.token })).status;
    }
    expect(status).toBe(401);
  });

  it('deactivation on A ends the socket and SSE sessions on A and B within 1 s and refuses every door on both', async () => {
    const victim = await account('ADMIN');
    const control = await account('ADMIN');
    const sessions = await sessionsOn([a, b], victim.token);
    const controlSessions = await sessionsOn([a, b], control.token);
    try {
      for (const app of [a, b]) expect((await http(`${app.url}/notifications/unread-count`, { token: victim.token })).status).toBe(200);
      const notices = sessions.sockets.map((socket) => nextEvent(socket, 'notification:session-expiring', WITHIN_MS));
      const streamsEnded = sessions.streams.map((stream) => stream.waitFor((message) => message.event === 'notification:session-expiring', WITHIN_MS));

      await a.app.get(UserAccountService).deactivate(victim.id);

      expect(await Promise.all(notices)).toEqual([{ code: 'USER_DISCONNECTED' }, { code: 'USER_DISCONNECTED' }]);
      expect((await Promise.all(streamsEnded)).map((message) => message.data)).toEqual([{ code: 'USER_DISCONNECTED' }, { code: 'USER_DISCONNECTED' }]);
      for (const app of [a, b]) {
        expect((await http(`${app.url}/notifications/unread-count`, { token: victim.token })).status).toBe(401);
        expect(await refusal(app.url, { token: victim.token })).toBe('UNAUTHORIZED');
        expect((await openStream(app.url, { token: victim.token })).status).toBe(401);
      }
      // The control, an ADMIN of the same tenant, is untouched.
      expect(controlSessions.sockets.every((socket) => socket.connected) && controlSessions.streams.every((stream) => !stream.isEnded())).toBe(true);
      expect((await broadcastAndOwn(a, controlSessions, control.id, 'admin@acme.test')).tenant).toBe(4);
    } finally {
      sessions.close();
      controlSessions.close();
    }
  });

  it('a demoted ADMIN loses create and the tenant room on both instances within 1 s, live and in sync; promoted again, it gets them back', async () => {
    const admin = await account('ADMIN');
    const sessions = await sessionsOn([a, b], admin.token);
    try {
      expect(await broadcastAndOwn(a, sessions, admin.id, 'admin@acme.test')).toEqual({ tenant: 4, own: 4 });

      await a.app.get(UserAccountService).changeRole(admin.id, 'USER');

      const forbidden = { ok: false, error: { code: 'FORBIDDEN', message: 'Forbidden' } };
      expect(await createRefusedWithin(sessions.sockets[1], WITHIN_MS)).toEqual(forbidden);
      expect(await createRefusedWithin(sessions.sockets[0], WITHIN_MS)).toEqual(forbidden);
      for (const app of [a, b]) {
        expect((await publish(app.url, admin.token, { title: 't', content: 'c', scope: 'TENANT' })).status).toBe(403);
      }
      // Still connected, still receiving its own notifications; no tenant broadcast, live or in sync.
      expect(await broadcastAndOwn(b, sessions, admin.id, 'admin@acme.test')).toEqual({ tenant: 0, own: 4 });
      expect([await tenantItemsInSync(sessions.sockets[0]), await tenantItemsInSync(sessions.sockets[1])]).toEqual([0, 0]);

      await b.app.get(UserAccountService).changeRole(admin.id, 'ADMIN');
      let visible = 0;
      for (const deadline = Date.now() + WITHIN_MS; Date.now() < deadline && visible === 0; await settle(50)) visible = await tenantItemsInSync(sessions.sockets[0]);
      expect(visible).toBeGreaterThan(0);
      expect(await broadcastAndOwn(a, sessions, admin.id, 'admin@acme.test')).toEqual({ tenant: 4, own: 4 });
    } finally {
      sessions.close();
    }
  });

  it("moveToTenant moves an ADMIN's live sessions to the new tenant's room on both instances", async () => {
    const admin = await account('ADMIN');
    const sessions = await sessionsOn([a, b], admin.token);
    try {
      const globex = await demoUser('admin@globex.test');
      await b.app.get(UserAccountService).moveToTenant(admin.id, globex.tenantId);
      expect(await broadcastAndOwn(a, sessions, admin.id, 'admin@globex.test')).toEqual({ tenant: 4, own: 4 });
      const acme = uniqueTitle('old tenant');
      expect((await publish(a.url, await tokenFor('admin@acme.test'), { title: acme, content: 'c', scope: 'TENANT' })).status).toBe(201);
      await settle(300);
      expect(receivedBy(sessions, acme)).toBe(0);
      await expect(a.app.get(UserAccountService).moveToTenant(admin.id, randomUUID())).rejects.toMatchObject({ code: 'NOT_FOUND' });
    } finally {
      sessions.close();
    }
  });

  it('a change named by the user id in upper case (the same UUID) reaches the cache and the sessions on both instances within 1 s', async () => {
    const admin = await account('ADMIN');
    const sessions = await sessionsOn([a, b], admin.token);
    try {
      await a.app.get(UserAccountService).changeRole(admin.id.toUpperCase(), 'USER');
      expect(await createRefusedWithin(sessions.sockets[1] as ClientSocket, WITHIN_MS)).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
      expect((await http(`${b.url}/notifications`, { token: admin.token, body: { title: uniqueTitle('demoted'), content: 'c', scope: 'TENANT' } })).status).toBe(403);
      a.app.get(ConnectionService).disconnectUser(admin.id.toUpperCase(), 'USER_DISCONNECTED');
      for (let i = 0; i < 20 && sessions.sockets.some((socket) => socket.connected); i += 1) await settle(50);
      expect(sessions.sockets.map((socket) => socket.connected)).toEqual([false, false]);
    } finally {
      sessions.close();
    }
  });

  it("a USER publish reads its recipient's tenant through the cache: a move announced on B refuses the old tenant's ADMIN on A within 1 s; a move nobody announced does not turn the new tenant's ADMIN away", async () => {
    const recipient = await account('USER');
    const [acmeAdmin, globexAdmin] = [await tokenFor('admin@acme.test'), await tokenFor('admin@globex.test')];
    const globex = await demoUser('admin@globex.test');
    const to = (app: RunningApp, token: string) => publish(app.url, token, { title: uniqueTitle('to a mover'), content: 'c', userId: recipient.id });
    // Both instances now hold the recipient's state (acme) for 5 minutes.
    expect([(await to(a, acmeAdmin)).status, (await to(b, acmeAdmin)).status]).toEqual([201, 201]);

    // Moved in SQL, nobody told: the caches still say acme. The new tenant's ADMIN is not refused on
    // the cache's word: a recipient placed in another tenant is read again first.
    await sql('UPDATE users SET tenant_id = $2 WHERE id = $1', [recipient.id, globex.tenantId]);
    expect([(await to(a, globexAdmin)).status, (await to(b, globexAdmin)).status]).toEqual([201, 201]);
    const stored = await sql<{ tenantId: string }>('SELECT tenant_id AS "tenantId" FROM notifications WHERE user_id = $1 AND created_by_id = $2', [recipient.id, globex.id]);
    expect(stored.map((row) => row.tenantId)).toEqual([globex.tenantId, globex.tenantId]);

    // Until the move is announced, the cache's word stands for the old tenant too, as it does for a
    // publisher's own state: this is what shows that the refusal below comes from the invalidation.
    expect((await to(a, acmeAdmin)).status).toBe(201);
    // Announced on B (as UserAccountService does after its own writes): A refuses the old tenant's ADMIN within 1 s.
    await b.app.get(UserStateChannel).invalidate(recipient.id);
    let status = 0;
    for (const deadline = Date.now() + WITHIN_MS; Date.now() < deadline && status !== 404; await settle(50)) status = (await to(a, acmeAdmin)).status;
    expect(status).toBe(404);
    expect((await to(b, acmeAdmin)).status).toBe(404);
  });
});

describe('single instance without Redis: changes nobody announced are caught by the periodic re-check', () => {
  let app: RunningApp;

  beforeAll(async () => {
    app = await startApp({ USER_STATE_CACHE_TTL_MS: '300000', USER_STATE_SWEEP_INTERVAL_MS: '200' });
  });
  afterAll(() => app?.close());

  it('a role taken away and a deactivation made in SQL reach the live sessions', async () => {
    const admin = await account('ADMIN');
    const sessions = await sessionsOn([app], admin.token);
    try {
      await sql(`UPDATE users SET role = 'USER' WHERE id = $1`, [admin.id]);
      expect(await createRefusedWithin(sessions.sockets[0], 10_000)).toEqual({ ok: false, error: { code: 'FORBIDDEN', message: 'Forbidden' } });
      const title = uniqueTitle('tenant after sql demotion');
      expect((await publish(app.url, await tokenFor('admin@acme.test'), { title, content: 'c', scope: 'TENANT' })).status).toBe(201);
      await settle(300);
      expect(receivedBy(sessions, title)).toBe(0);

      const notice = nextEvent(sessions.sockets[0], 'notification:session-expiring', 10_000);
      await sql('UPDATE users SET is_active = false WHERE id = $1', [admin.id]);
      expect(await notice).toEqual({ code: 'USER_DISCONNECTED' });
      await sessions.streams[0].ended;
      expect((await http(`${app.url}/notifications/unread-count`, { token: admin.token })).status).toBe(401);
    } finally {
      sessions.close();
    }
  });

  it('changeRole works in memory', async () => {
    const user = await account('USER');
    const sessions = await sessionsOn([app], user.token);
    try {
      await app.app.get(UserAccountService).changeRole(user.id, 'ADMIN');
      expect(await broadcastAndOwn(app, sessions, user.id, 'admin@acme.test')).toEqual({ tenant: 2, own: 2 });
      await expect(app.app.get(UserAccountService).changeRole(user.id, 'ROOT' as Role)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      await expect(app.app.get(UserAccountService).changeRole(randomUUID(), 'USER')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    } finally {
      sessions.close();
    }
  });
});
