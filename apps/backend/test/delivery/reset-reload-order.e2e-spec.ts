import { createNotificationClient, type NotificationClient } from '@notify-gateway/client';
import type { NotificationView } from '@notify-gateway/contracts';
import { NotificationReader } from '../../src/notifications/notification-reader';
import { NotificationService } from '../../src/notifications/notification.service';
import { settle, until } from '../support/sockets';
import { startApp, type RunningApp } from '../support/test-app';
import { demoUser } from '../support/users';
import { freshPerson } from '../store/fresh-tenant';

const CATCH_UP_MAX = 3;

/**
 * A reset reloads the latest page; a live notification of the same stream that arrives while
 * that page is on its way is newer than everything on it. Per-stream order still holds: the
 * page's notifications are handed before it, never after.
 */
describe('reset reload racing a live notification of the same stream', () => {
  let running: RunningApp;
  let service: NotificationService;
  const clients: NotificationClient[] = [];

  beforeAll(async () => {
    running = await startApp({ CATCH_UP_MAX: String(CATCH_UP_MAX) });
    service = running.app.get(NotificationService);
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });
  afterAll(() => running.close());

  it('the latest page is handed in order before the live notification that overtook it', async () => {
    const { tenantId } = await demoUser('user@acme.test');
    const { id, token } = await freshPerson('USER', tenantId);
    const user = { id };
    const first = await service.sendToUser(user.id, { title: 'n1', content: 'c' });
    for (let i = 2; i <= CATCH_UP_MAX + 3; i += 1) await service.sendToUser(user.id, { title: `n${i}`, content: 'c' });

    // The reload's latest page waits until a live notification of the stream has gone out.
    const reader = running.app.get(NotificationReader);
    const latest = reader.latest.bind(reader);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let held = false;
    reader.latest = async (...args: Parameters<NotificationReader['latest']>) => {
      if (!held) {
        held = true;
        await released;
      }
      return latest(...args);
    };

    const seen: NotificationView[] = [];
    const resets: string[] = [];
    const client = createNotificationClient({
      url: running.url,
      transports: ['websocket'],
      position: `u.${first.epoch}.${first.offset}`,
      getToken: () => Promise.resolve(token),
      onNotification: (notification) => seen.push(notification),
    });
    client.on('reset', (info) => resets.push(info.reason));
    clients.push(client);
    try {
      await until(() => held, 'the reload asking for the latest page');
      const live = await service.sendToUser(user.id, { title: 'live', content: 'c' });
      await settle(300);
      release();
      await until(() => client.state === 'live', 'live');
      await until(() => seen.some((n) => n.id === live.id), 'the live one');
      await settle(200);
    } finally {
      reader.latest = latest;
      release();
    }
    const offsets = seen.map((n) => Number(n.offset));
    expect(resets).toEqual(['TOO_FAR_BEHIND']);
    expect(new Set(seen.map((n) => n.id)).size).toBe(seen.length);
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    expect(offsets.at(-1)).toBe(CATCH_UP_MAX + 4);
  });
});
