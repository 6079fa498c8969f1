import type { NotificationView } from '@notify-gateway/contracts';
import { http, publish, uniqueTitle } from '../support/http';
import { OwnRedis, uniquePrefix } from '../support/redis-server';
import { collect, connect, request, settle, type ClientSocket } from '../support/sockets';
import { startApp, type RunningApp } from '../support/test-app';
import { demoUser, tokenFor } from '../support/users';

/** Polls until `check` holds, for at most `ms`; returns whether it did. */
async function eventually(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await settle(100)) {
    if (await check()) return true;
  }
  return check();
}

describe('Redis outage: stop and restart a Redis the test owns', () => {
  let redis: OwnRedis;
  let a: RunningApp;
  let b: RunningApp;
  let onA: ClientSocket;
  let onB: ClientSocket;
  let inboxA: NotificationView[];
  let inboxB: NotificationView[];
  let userId: string;
  let adminToken: string;

  beforeAll(async () => {
    redis = await OwnRedis.start();
    const env = { REDIS_URL: redis.url, REDIS_KEY_PREFIX: uniquePrefix('outage'), WS_RATE_LIMIT_POINTS: '20' };
    a = await startApp(env);
    b = await startApp(env);
    userId = (await demoUser('user@acme.test')).id;
    adminToken = await tokenFor('admin@acme.test');
    const token = await tokenFor('user@acme.test');
    onA = await connect(a.url, { token });
    onB = await connect(b.url, { token });
    inboxA = collect(onA, 'notification:new');
    inboxB = collect(onB, 'notification:new');
  }, 30_000);
  afterAll(async () => {
    onA?.close();
    onB?.close();
    await a?.close();
    await b?.close();
    await redis?.destroy();
  });

  const send = async (): Promise<NotificationView> => {
    const response = await publish(a.url, adminToken, { title: uniqueTitle('outage'), content: 'c', scope: 'USER', userId });
    expect(response.status).toBe(201);
    return response.body as unknown as NotificationView;
  };

  it('keeps serving local clients, reports unready, recovers, and loses nothing after sync', async () => {
    const before = await send();
    expect(await eventually(() => inboxB.some((n) => n.id === before.id))).toBe(true);
    const cursorBeforeOutage = before.cursor;

    await redis.stop();
    const duringOutage = [await send(), await send(), await send()];
    // Local delivery continues on A.
    expect(await eventually(() => duringOutage.every((n) => inboxA.some((m) => m.id === n.id)))).toBe(true);
    // Readiness says so; liveness does not.
    expect((await http(`${a.url}/health/ready`)).status).toBe(503);
    expect((await http(`${a.url}/health/live`)).status).toBe(200);
    // Rate limiting falls back to the insurance limiter, with a log line, and still answers.
    expect(await request(onA, 'notification:sync', { limit: 1 })).toMatchObject({ ok: true });
    expect(a.logs.entries().some((entry) => String(entry.msg).includes('insurance limiter'))).toBe(true);
    // Sockets stayed connected through it.
    expect(onA.connected && onB.connected).toBe(true);

    await redis.resume();
    expect(await eventually(async () => (await http(`${a.url}/health/ready`)).status === 200)).toBe(true);
    // Cross-instance delivery resumes once the adapter has resubscribed.
    let after: NotificationView | undefined;
    const resumed = await eventually(async () => {
      after = await send();
      await settle(300);
      return inboxB.some((n) => n.id === after?.id);
    }, 15_000);
    expect(resumed).toBe(true);

    // The client on B recovers what it missed from the database.
    const synced = await request(onB, 'notification:sync', { after: cursorBeforeOutage, limit: 100 });
    if (!synced.ok) throw new Error('sync failed');
    const held = new Set([...inboxB.map((n) => n.id), ...synced.notifications.map((n) => n.id)]);
    const lost = duringOutage.filter((n) => !held.has(n.id));
    const liveOnB = duringOutage.filter((n) => inboxB.some((m) => m.id === n.id)).length;
    process.stdout.write(
      `redis outage: published ${duringOutage.length} / delivered live ${liveOnB} / recovered by sync ${duringOutage.length - liveOnB - lost.length} / lost ${lost.length}\n`,
    );
    expect(lost).toEqual([]);
  }, 60_000);
});
