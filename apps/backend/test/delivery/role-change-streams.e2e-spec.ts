import { createNotificationClient, type NotificationClient } from '@notify-gateway/client';
import type { NotificationView, Role } from '@notify-gateway/contracts';
import { NotificationService } from '../../src/notifications/notification.service';
import { SseHub } from '../../src/notifications/sse/sse-hub';
import { NotificationGateway } from '../../src/notifications/socket/notification.gateway';
import { UserAccountService } from '../../src/users/user-account.service';
import { isNotification, notificationsOf, openStream } from '../support/sse';
import { settle, until } from '../support/sockets';
import { startApp, type RunningApp } from '../support/test-app';
import { freshPerson, freshTenant } from '../store/fresh-tenant';

/** A tenant of its own (its seeded users never connect here). */
const tenant = async (): Promise<string> => (await freshTenant()).tenantId;

/**
 * A user's role or tenant changes while packages/client is live: the server moves the socket to
 * the new rooms without a notice. What the new stream delivers from then on reaches the
 * application once, in order; the position stays one a server accepts, across reconnects.
 */
describe('role or tenant change under packages/client', () => {
  let running: RunningApp;
  let service: NotificationService;
  let accounts: UserAccountService;
  const clients: NotificationClient[] = [];

  beforeAll(async () => {
    running = await startApp();
    service = running.app.get(NotificationService);
    accounts = running.app.get(UserAccountService);
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });
  afterAll(() => running.close());

  function roomSize(room: string): number {
    const gateway = running.app.get(NotificationGateway) as unknown as { localRoomSize(room: string): number };
    return gateway.localRoomSize(room);
  }

  function observe(token: string): { client: NotificationClient; seen: NotificationView[]; errors: string[] } {
    const seen: NotificationView[] = [];
    const errors: string[] = [];
    const client = createNotificationClient({
      url: running.url,
      transports: ['websocket'],
      reconnectDelayMs: 100,
      getToken: () => Promise.resolve(token),
      onNotification: (notification) => seen.push(notification),
    });
    client.on('error', (error) => errors.push(error.code));
    clients.push(client);
    return { client, seen, errors };
  }

  /** Drops the client's transport: socket.io-client reconnects by itself. */
  function dropTransport(client: NotificationClient): void {
    (client as unknown as { socket: { io: { engine: { close(): void } } } }).socket.io.engine.close();
  }

  const titles = (list: NotificationView[], prefix: string): string[] => list.filter((n) => n.title.startsWith(prefix)).map((n) => n.title);

  it('a USER promoted to ADMIN: the tenant broadcasts published after the move reach the application, once, in order', async () => {
    const tenantId = await tenant();
    const user = await freshPerson('USER', tenantId);
    const { client, seen } = observe(user.token);
    await until(() => client.state === 'live', 'live');

    await accounts.changeRole(user.id, 'ADMIN');
    await until(() => roomSize(`tenant:${tenantId}`) === 1, 'the socket in the tenant room');
    const published: NotificationView[] = [];
    for (let i = 1; i <= 3; i += 1) published.push(await service.sendToTenant(tenantId, { title: `t${i}`, content: 'c' }));
    published.push(await service.sendToUser(user.id, { title: 'u1', content: 'c' }));

    await until(() => seen.length >= published.length, `${published.length} handed (handed ${seen.length})`, 5000).catch(() => undefined);
    await settle(300);
    expect(titles(seen, 't')).toEqual(['t1', 't2', 't3']);
    expect(titles(seen, 'u')).toEqual(['u1']);
    expect(new Set(seen.map((n) => n.id)).size).toBe(seen.length);
    expect(client.lastPosition).toMatch(/^u\.[0-9a-f]+\.1_t\.[0-9a-f]+\.3$/);
  });

  it('an ADMIN moved to another tenant: the new tenant reaches the application, and after a reconnect the catch-up still works', async () => {
    const [from, to] = [await tenant(), await tenant()];
    const admin = await freshPerson('ADMIN', from);
    const { client, seen, errors } = observe(admin.token);
    await until(() => client.state === 'live', 'live');
    await service.sendToTenant(from, { title: 'old1', content: 'c' });
    await until(() => seen.length === 1, 'the old tenant notification');

    await accounts.moveToTenant(admin.id, to);
    await until(() => roomSize(`tenant:${to}`) === 1, 'the socket in the new tenant room');
    await service.sendToTenant(to, { title: 'new1', content: 'c' });
    await until(() => titles(seen, 'new').length === 1, 'new1 handed', 3000).catch(() => undefined);
    const liveAfterMove = titles(seen, 'new');

    // A drop; while the client is away its user stream and the new tenant get one each.
    dropTransport(client);
    await until(() => client.state !== 'live', 'the drop');
    await service.sendToUser(admin.id, { title: 'away-u', content: 'c' });
    await service.sendToTenant(to, { title: 'new2', content: 'c' });
    await until(() => client.state === 'live', 'live again');
    // One more drop: the position the first reconnect left must still be one the server accepts.
    dropTransport(client);
    await until(() => client.state !== 'live', 'the second drop');
    await service.sendToUser(admin.id, { title: 'away-again', content: 'c' });
    await until(() => client.state === 'live', 'live once more', 5000).catch(() => undefined);
    await until(() => titles(seen, 'away-again').length === 1, 'away-again handed', 3000).catch(() => undefined);

    expect(liveAfterMove).toEqual(['new1']);
    expect(titles(seen, 'new')).toEqual(['new1', 'new2']);
    expect(titles(seen, 'away')).toEqual(['away-u', 'away-again']);
    expect(titles(seen, 'old')).toEqual(['old1']);
    expect(new Set(seen.map((n) => n.id)).size).toBe(seen.length);
    expect(errors).toEqual([]);
    // One entry per kind: a position naming `t` twice is refused by the server and by the client's own constructor.
    const position = client.lastPosition ?? '';
    expect(position.split('_').map((entry) => entry[0])).toEqual(['u', 't']);
    expect(() => createNotificationClient({ url: running.url, position, autoConnect: false, getToken: () => Promise.resolve(admin.token) }).close()).not.toThrow();
  });
});

/**
 * The same change under SSE: the stream's ids must name the stream it reads now, so that a
 * reconnect with Last-Event-ID replays what that stream got meanwhile.
 */
describe('role or tenant change under SSE', () => {
  let running: RunningApp;
  let service: NotificationService;
  let accounts: UserAccountService;

  beforeAll(async () => {
    running = await startApp();
    service = running.app.get(NotificationService);
    accounts = running.app.get(UserAccountService);
  });
  afterAll(() => running.close());

  /** Waits until the hub holds the user's stream under `role` and `tenantId`. */
  async function reassigned(userId: string, role: Role, tenantId: string): Promise<void> {
    const hub = running.app.get(SseHub) as unknown as { streams: Set<{ session: { user: { userId: string; role: Role; tenantId: string } } }> };
    await until(() => [...hub.streams].some(({ session: { user } }) => user.userId === userId && user.role === role && user.tenantId === tenantId), 'the stream re-assigned');
    // The stream may still be reading where its new stream stands.
    await settle(200);
  }

  it("a live notification of the gained stream that comes while that stream's head is read is held, then sent with an id", async () => {
    const tenantId = await tenant();
    const user = await freshPerson('USER', tenantId);
    const stream = await openStream(running.url, { token: user.token });
    await service.sendToUser(user.id, { title: 'h-u1', content: 'c' });
    await stream.waitFor(isNotification('h-u1'), 5000);
    // The head read waits until the tenant's notification has gone out live.
    const heads = service.currentPositions.bind(service);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let asked = false;
    service.currentPositions = async (...args: Parameters<NotificationService['currentPositions']>) => {
      asked = true;
      await released;
      return heads(...args);
    };
    try {
      await accounts.changeRole(user.id, 'ADMIN');
      await until(() => asked, "the stream reading its new stream's head");
      await service.sendToTenant(tenantId, { title: 'h-live', content: 'c' });
      await settle(200);
      release();
      const live = await stream.waitFor(isNotification('h-live'), 5000);
      expect(live.id).toMatch(/^u\.[0-9a-f]+\.1_t\.[0-9a-f]+\.1$/);
      await settle(200);
      expect(notificationsOf(stream.messages).filter((n) => n.title === 'h-live')).toHaveLength(1);
    } finally {
      service.currentPositions = heads;
      release();
      stream.close();
    }
  });

  for (const change of ['promotion', 'tenant move'] as const) {
    it(`${change}: the ids name the new tenant stream; a reconnect with Last-Event-ID replays what it got meanwhile`, async () => {
      const [from, to] = [await tenant(), await tenant()];
      const user = await freshPerson(change === 'promotion' ? 'USER' : 'ADMIN', from);
      const target = change === 'promotion' ? from : to;
      const stream = await openStream(running.url, { token: user.token });
      await service.sendToUser(user.id, { title: 'u1', content: 'c' });
      await stream.waitFor(isNotification('u1'), 5000);

      if (change === 'promotion') await accounts.changeRole(user.id, 'ADMIN');
      else await accounts.moveToTenant(user.id, to);
      await reassigned(user.id, 'ADMIN', target);
      await service.sendToTenant(target, { title: 'live1', content: 'c' });
      const live = await stream.waitFor(isNotification('live1'), 5000);
      stream.close();

      await service.sendToTenant(target, { title: 'away1', content: 'c' });
      await service.sendToUser(user.id, { title: 'u2', content: 'c' });
      const lastId = [...stream.messages].reverse().find((message) => message.id !== undefined)?.id ?? '';
      const again = await openStream(running.url, { token: user.token, lastEventId: lastId });
      try {
        await again.waitFor(isNotification('u2'), 5000);
        await settle(300);
        const replayed = notificationsOf(again.messages).map((n) => n.title);
        expect(live.id).toMatch(/^u\.[0-9a-f]+\.1_t\.[0-9a-f]+\.\d+$/);
        expect(replayed).toEqual(['away1', 'u2']);
      } finally {
        again.close();
      }
    });
  }
});
