import type { NotificationView } from '@notify-gateway/contracts';
import { http, publish, uniqueTitle } from '../support/http';
import { collect, connect, request, settle, type ClientSocket } from '../support/sockets';
import { TcpProxy } from '../support/tcp-proxy';
import { startApp, type RunningApp } from '../support/test-app';
import { demoUser, tokenFor } from '../support/users';

describe('PostgreSQL unreachable for a few seconds (through a proxy the test cuts)', () => {
  let proxy: TcpProxy;
  let running: RunningApp;
  let socket: ClientSocket;
  let inbox: NotificationView[];

  beforeAll(async () => {
    const target = new URL(process.env.TEST_DATABASE_URL ?? '');
    proxy = await TcpProxy.start(target.hostname, Number(target.port || 5432));
    running = await startApp({ DATABASE_URL: proxy.reroute(process.env.TEST_DATABASE_URL ?? '') });
    socket = await connect(running.url, { token: await tokenFor('user@acme.test') });
    inbox = collect(socket, 'notification:new');
  });
  afterAll(async () => {
    socket?.close();
    await running?.close();
    await proxy?.cut();
  });

  it('publishes fail with a generic 503, socket events answer SERVICE_UNAVAILABLE, readiness is 503, and after it returns nothing accepted is lost', async () => {
    const userId = (await demoUser('user@acme.test')).id;
    const admin = await tokenFor('admin@acme.test');
    const accepted: NotificationView[] = [];
    const attempt = async (): Promise<number> => {
      const response = await publish(running.url, admin, { title: uniqueTitle('pg-outage'), content: 'c', scope: 'USER', userId });
      if (response.status === 201) accepted.push(response.body as unknown as NotificationView);
      return response.status;
    };

    expect(await attempt()).toBe(201);
    const cursor = accepted[0].cursor;

    await proxy.cut();
    const refused = await http(`${running.url}/notifications`, {
      token: admin,
      body: { title: 'during outage', content: 'c', scope: 'USER', userId },
    });
    expect(refused.status).toBe(503);
    expect(refused.body).toEqual({ statusCode: 503, code: 'SERVICE_UNAVAILABLE', message: 'Service temporarily unavailable' });
    let failedDuringOutage = 1;
    for (let i = 0; i < 3; i += 1) if ((await attempt()) === 503) failedDuringOutage += 1;
    expect(failedDuringOutage).toBe(4);
    expect((await http(`${running.url}/health/ready`)).status).toBe(503);
    expect((await http(`${running.url}/health/live`)).status).toBe(200);
    expect(socket.connected).toBe(true);
    // A socket event that needs the database is told to come back, as REST is, and the socket stays.
    const syncDuringOutage = await request(socket, 'notification:sync', { after: cursor, limit: 100 }, 8000);
    expect(syncDuringOutage).toEqual({ ok: false, error: { code: 'SERVICE_UNAVAILABLE', message: 'Service temporarily unavailable' } });
    expect(socket.connected).toBe(true);

    await proxy.restore();
    let ready = false;
    for (let i = 0; i < 50 && !ready; i += 1) {
      ready = (await http(`${running.url}/health/ready`)).status === 200;
      if (!ready) await settle(200);
    }
    expect(ready).toBe(true);
    for (let i = 0; i < 3; i += 1) expect(await attempt()).toBe(201);
    await settle(300);

    const synced = await request(socket, 'notification:sync', { after: cursor, limit: 100 });
    if (!synced.ok) throw new Error('sync failed');
    const held = new Set([...inbox.map((n) => n.id), ...synced.notifications.map((n) => n.id)]);
    const lost = accepted.filter((n) => !held.has(n.id)).length;
    const live = accepted.filter((n) => inbox.some((m) => m.id === n.id)).length;
    process.stdout.write(`postgres outage: published ${accepted.length} (+${failedDuringOutage} refused with 503) / delivered live ${live} / recovered by sync ${accepted.length - live - lost} / lost ${lost}\n`);
    expect(lost).toBe(0);
    // Nothing that was refused was stored.
    const stored = await http<{ items: NotificationView[] }>(`${running.url}/notifications?limit=100`, { token: await tokenFor('user@acme.test') });
    expect(stored.body.items.some((n) => n.title === 'during outage')).toBe(false);
  }, 60_000);
});
