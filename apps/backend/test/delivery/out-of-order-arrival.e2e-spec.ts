import { createNotificationClient, type NotificationClient, type StateChange } from '@notify-gateway/client';
import type { NotificationPage, NotificationView } from '@notify-gateway/contracts';
import { NotificationService } from '../../src/notifications/notification.service';
import { HeldEmits } from '../support/held-emits';
import { http, uniqueTitle } from '../support/http';
import { uniquePrefix } from '../support/redis-server';
import { settle, until } from '../support/sockets';
import { TcpProxy } from '../support/tcp-proxy';
import { startApp, type RunningApp } from '../support/test-app';
import { demoUser, tokenFor } from '../support/users';

const SHARED_REDIS = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Arrival order is not commit order. Instance A commits n1 but its emit is held back; instance
 * B commits n2 later and emits at once, so the client sees n2 first. The client then loses its
 * connection while n1's emit goes out to nobody, and reconnects. It must end with n1 and n2,
 * each handed to the application exactly once.
 */
describe('an earlier commit arriving after a later one, with a disconnect in between', () => {
  let a: RunningApp;
  let b: RunningApp;
  let proxy: TcpProxy;
  let client: NotificationClient | undefined;

  beforeAll(async () => {
    const env = { REDIS_URL: SHARED_REDIS, REDIS_KEY_PREFIX: uniquePrefix('order') };
    a = await startApp(env);
    b = await startApp(env);
    proxy = await TcpProxy.start('127.0.0.1', Number(new URL(b.url).port));
  });
  afterAll(async () => {
    client?.close();
    await proxy.cut();
    await a.close();
    await b.close();
  });

  it('hands both notifications to the application, once each, in commit order', async () => {
    const user = await demoUser('user@globex.test');
    const token = await tokenFor('user@globex.test');
    const newest = await http<NotificationPage>(`${b.url}/notifications?limit=1`, { token });
    const handed: NotificationView[] = [];
    const states: StateChange[] = [];
    client = createNotificationClient({
      url: `http://127.0.0.1:${proxy.port}`,
      transports: ['websocket'],
      cursor: newest.body.cursor ?? undefined,
      reconnectDelayMs: 100,
      reconnectDelayMaxMs: 300,
      getToken: () => tokenFor('user@globex.test'),
      onNotification: (notification) => handed.push(notification),
    });
    client.on('state', (change) => states.push(change));
    await until(() => client?.state === 'live', 'live');

    const heldOnA = HeldEmits.on(a.app);
    heldOnA.hold();
    const n1 = await a.app.get(NotificationService).sendToUser(user.id, { title: uniqueTitle('first'), content: 'committed first, emitted late' });
    const n2 = await b.app.get(NotificationService).sendToUser(user.id, { title: uniqueTitle('second'), content: 'committed second, emitted at once' });
    expect(heldOnA.count).toBe(1);
    await until(() => handed.some((n) => n.id === n2.id) || states.some((s) => s.state === 'syncing' && states.indexOf(s) > 1), 'n2 live, or a gap sync');

    await proxy.cut();
    await until(() => client?.state === 'reconnecting', 'the disconnect');
    heldOnA.release(); // n1's emit goes out while the client is away
    await settle(200);
    await proxy.restore();
    await until(() => client?.state === 'live', 'live again');
    await until(() => handed.some((n) => n.id === n1.id), 'n1 after the reconnect', 3000).catch(() => undefined);

    const ids = handed.map((n) => n.id);
    process.stdout.write(`out-of-order: handed ${ids.length}, n1 ${ids.includes(n1.id) ? 'received' : 'LOST'}, n2 ${ids.includes(n2.id) ? 'received' : 'LOST'}\n`);
    expect(ids.filter((id) => id === n1.id)).toEqual([n1.id]);
    expect(ids.filter((id) => id === n2.id)).toEqual([n2.id]);
    expect(ids).toHaveLength(2);
    // Per-stream order: the earlier commit first, whatever the arrival order was.
    expect(ids).toEqual([n1.id, n2.id]);
  }, 40_000);
});
