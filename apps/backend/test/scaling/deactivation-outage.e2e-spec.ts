import type { NotificationView } from '@notify-gateway/contracts';
import { UserAccountService } from '../../src/users/user-account.service';
import { http, publish, uniqueTitle } from '../support/http';
import { OwnRedis, uniquePrefix } from '../support/redis-server';
import { freshUser, notificationsOf, openStream, type StreamClient, type TestUser } from '../support/sse';
import { collect, connect, refusal, request, settle } from '../support/sockets';
import { startApp, type RunningApp } from '../support/test-app';
import { tokenFor } from '../support/users';

/** Polls until `check` holds, for at most `ms`; returns whether it did. */
async function eventually(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await settle(100)) {
    if (await check()) return true;
  }
  return check();
}

/**
 * A finding of docs/SECURITY.md: a deactivation made while Redis is down must not be lost. The instance
 * that made it cuts its own sessions and logs that the other instances could not be told; the
 * others re-check their sessions against PostgreSQL as soon as their Redis link is back (the
 * periodic sweep is set to an hour here, so it cannot be what ends them). A control user on
 * both instances keeps its sessions and its notifications throughout.
 */
describe('deactivation during a Redis outage (a Redis the test owns)', () => {
  let redis: OwnRedis;
  let a: RunningApp;
  let b: RunningApp;
  let victim: TestUser;
  let control: TestUser;
  let adminToken: string;
  const opened: { close(): void }[] = [];

  beforeAll(async () => {
    redis = await OwnRedis.start();
    const env = { REDIS_URL: redis.url, REDIS_KEY_PREFIX: uniquePrefix('deact-outage'), USER_STATE_SWEEP_INTERVAL_MS: '3600000' };
    a = await startApp(env);
    b = await startApp(env);
    victim = await freshUser('admin@acme.test');
    control = await freshUser('admin@acme.test');
    adminToken = await tokenFor('admin@acme.test');
  }, 30_000);
  afterAll(async () => {
    for (const client of opened) client.close();
    await a?.close();
    await b?.close();
    await redis?.destroy();
  });

  const track = <T extends { close(): void }>(client: T): T => {
    opened.push(client);
    return client;
  };

  it('ends the sessions on the other instance once Redis is back, refuses it everywhere, and logs the undelivered cut', async () => {
    const token = victim.token();
    const [victimA, victimB] = [track(await connect(a.url, { token })), track(await connect(b.url, { token }))];
    const victimStreamB: StreamClient = track(await openStream(b.url, { token }));
    const [controlA, controlB] = [track(await connect(a.url, { token: control.token() })), track(await connect(b.url, { token: control.token() }))];
    const controlStreamB: StreamClient = track(await openStream(b.url, { token: control.token() }));
    const controlInbox = { A: collect(controlA, 'notification:new'), B: collect(controlB, 'notification:new') };
    // Warm the user state on B: its REST answer must not be a stale cache entry later.
    expect((await http(`${b.url}/notifications/unread-count`, { token })).status).toBe(200);

    await redis.stop();
    const cutMark = a.logs.lines.length;
    await a.app.get(UserAccountService).deactivate(victim.id);
    // A cuts its own socket at once; B cannot be told while Redis is down.
    expect(await eventually(() => victimA.disconnected, 3000)).toBe(true);
    expect(
      a.logs
        .entries()
        .slice(cutMark)
        .some((entry) => entry.userId === victim.id && String(entry.msg).includes('not delivered')),
    ).toBe(true);

    // The control keeps receiving on A during the outage.
    const during = await publish(a.url, adminToken, { title: uniqueTitle('control during outage'), content: 'c', userId: control.id });
    expect(during.status).toBe(201);
    expect(await eventually(() => controlInbox.A.some((n) => n.id === (during.body as unknown as NotificationView).id), 5000)).toBe(true);

    await redis.resume();
    expect(await eventually(async () => (await http(`${b.url}/health/ready`)).status === 200, 15_000)).toBe(true);
    // B re-checks its sessions when its Redis link is back: the cut arrives after all.
    expect(await eventually(() => victimB.disconnected && victimStreamB.isEnded(), 10_000)).toBe(true);
    expect(victimStreamB.messages.some((message) => message.event === 'notification:session-expiring')).toBe(true);
    // Refused on every door of both instances.
    expect((await http(`${b.url}/notifications/unread-count`, { token })).status).toBe(401);
    expect((await http(`${a.url}/notifications/unread-count`, { token })).status).toBe(401);
    expect(await refusal(b.url, { token })).toBe('UNAUTHORIZED');
    expect((await openStream(b.url, { token })).status).toBe(401);

    // The control kept both sessions and receives on both instances.
    expect(controlA.connected && controlB.connected && !controlStreamB.isEnded()).toBe(true);
    // Cross-instance delivery resumes once the adapter has resubscribed.
    const reachedBoth = await eventually(async () => {
      const sent = await publish(a.url, adminToken, { title: uniqueTitle('control after outage'), content: 'c', userId: control.id });
      expect(sent.status).toBe(201);
      const id = (sent.body as unknown as NotificationView).id;
      await settle(300);
      return controlInbox.A.some((n) => n.id === id) && controlInbox.B.some((n) => n.id === id) && notificationsOf(controlStreamB.messages).some((n) => n.id === id);
    }, 15_000);
    expect(reachedBoth).toBe(true);
    expect(await request(controlB, 'notification:sync', { limit: 1 })).toMatchObject({ ok: true });
  }, 90_000);
});
