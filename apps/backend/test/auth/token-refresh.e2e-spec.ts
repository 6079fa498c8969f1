import { createNotificationClient, type NotificationClient, type StateChange, type TokenRequestReason } from '@notify-gateway/client';
import type { NotificationView } from '@notify-gateway/contracts';
import { NotificationGateway } from '../../src/notifications/socket/notification.gateway';
import type { GatewayNamespace } from '../../src/notifications/socket/gateway-socket';
import { NotificationService } from '../../src/notifications/notification.service';
import { scrape, total } from '../support/metrics';
import { freshUser } from '../support/sse';
import { connect, nextEvent, request, settle, waitForDisconnect } from '../support/sockets';
import { startApp, type RunningApp } from '../support/test-app';

/** In-band refresh (`auth:refresh`): the session's expiry moves, nothing reconnects. */
const LIFETIME_SEC = 10;

describe('in-band token refresh', () => {
  let running: RunningApp;
  beforeAll(async () => {
    running = await startApp({ JWT_CLOCK_TOLERANCE_SEC: '0' });
  });
  afterAll(() => running.close());

  const namespace = (): GatewayNamespace => (running.app.get(NotificationGateway) as unknown as { namespace: GatewayNamespace }).namespace;

  it(`keeps one socket connected across three ${LIFETIME_SEC} s token lifetimes, with every notification received`, async () => {
    const user = await freshUser('admin@acme.test');
    const reasons: TokenRequestReason[] = [];
    const states: StateChange[] = [];
    const received: NotificationView[] = [];
    const client: NotificationClient = createNotificationClient({
      url: running.url,
      transports: ['websocket'],
      refreshMarginMs: 3000,
      getToken: async ({ reason }) => {
        reasons.push(reason);
        return user.token({ expiresIn: LIFETIME_SEC });
      },
      onNotification: (notification) => received.push(notification),
    });
    client.on('state', (change) => states.push(change));
    try {
      while (client.state !== 'live') await settle(25);
      const socketIds = new Set<string>();
      const sent: string[] = [];
      const service = running.app.get(NotificationService);
      const until = Date.now() + (3 * LIFETIME_SEC + 1) * 1000;
      let i = 0;
      while (Date.now() < until) {
        for (const socket of namespace().sockets.values()) if (socket.data.user?.userId === user.id) socketIds.add(socket.id);
        const title = `refresh-${(i += 1)}`;
        await service.sendToUser(user.id, { title, content: 'across refreshes' });
        sent.push(title);
        await settle(500);
      }
      await settle(500);
      expect(received.map((notification) => notification.title)).toEqual(sent);
      expect(socketIds.size).toBe(1);
      expect(states.map((change) => change.state)).toEqual(['connecting', 'syncing', 'live']);
      expect(reasons[0]).toBe('connect');
      expect(reasons.filter((reason) => reason === 'refresh').length).toBeGreaterThanOrEqual(3);
      expect(reasons.filter((reason) => reason !== 'refresh' && reason !== 'connect')).toEqual([]);
      expect(client.state).toBe('live');
    } finally {
      client.close();
    }
  }, 45_000);

  it('falls back to reconnecting at exp when the server does not answer auth:refresh (an older server)', async () => {
    const user = await freshUser('admin@acme.test');
    const reasons: TokenRequestReason[] = [];
    const received: NotificationView[] = [];
    const client = createNotificationClient({
      url: running.url,
      transports: ['websocket'],
      refreshMarginMs: 3000,
      ackTimeoutMs: 1000,
      getToken: async ({ reason }) => {
        reasons.push(reason);
        return user.token({ expiresIn: reasons.length === 1 ? 4 : 600 });
      },
      onNotification: (notification) => received.push(notification),
    });
    try {
      while (client.state !== 'live') await settle(25);
      // What a server from before auth:refresh does: nothing answers it, nothing acks. The
      // gateway's events all go through one onAny dispatcher per socket (NotificationsIoAdapter).
      for (const socket of namespace().sockets.values()) if (socket.data.user?.userId === user.id) socket.offAny();
      while (!reasons.includes('expired')) await settle(25);
      while (client.state !== 'live') await settle(25);
      expect(reasons).toEqual(['connect', 'refresh', 'expired']);
      await running.app.get(NotificationService).sendToUser(user.id, { title: 'after the fallback', content: 'c' });
      while (!received.some((notification) => notification.title === 'after the fallback')) await settle(25);
    } finally {
      client.close();
    }
  }, 20_000);

  it('moves the expiry: a socket whose first token expired goes on after a refresh', async () => {
    const user = await freshUser('admin@acme.test');
    const socket = await connect(running.url, { token: user.token({ expiresIn: 2 }) });
    try {
      const newToken = user.token({ expiresIn: 60 });
      const ack = await request(socket, 'auth:refresh', { token: newToken });
      expect(ack).toEqual({ ok: true, expiresAt: expect.any(Number) });
      expect((ack as { expiresAt: number }).expiresAt).toBeGreaterThan(Date.now() / 1000 + 50);
      await settle(3000);
      expect(socket.connected).toBe(true);
      expect(await request(socket, 'notification:mark-all-read', {})).toEqual({ ok: true, count: 0 });
    } finally {
      socket.close();
    }
  });

  it.each([
    ['another user\'s token', async () => (await freshUser('admin@acme.test')).token()],
    ['a token that fails verification', async () => (await freshUser('admin@acme.test')).token().slice(0, -4) + 'AAAA'],
    ['an expired token of the same user', () => Promise.resolve('')],
  ])('ends the session on %s, with a generic code', async (name, makeToken) => {
    const user = await freshUser('admin@acme.test');
    const socket = await connect(running.url, { token: user.token() });
    const control = await connect(running.url, { token: user.token() });
    try {
      const token = name.startsWith('an expired') ? user.token({ expiresIn: -10 }) : await makeToken();
      const notice = nextEvent(socket, 'notification:session-expiring');
      const closed = waitForDisconnect(socket);
      expect(await request(socket, 'auth:refresh', { token })).toEqual({ ok: false, error: { code: 'UNAUTHORIZED', message: 'Unauthorized' } });
      expect(await notice).toEqual({ code: 'UNAUTHORIZED' });
      expect(await closed).toBe('io server disconnect');
      // The user's other session is not touched.
      await settle(100);
      expect(control.connected).toBe(true);
    } finally {
      socket.close();
      control.close();
    }
  });

  it('counts refreshes in the metrics by outcome', async () => {
    const metrics = await scrape(running.url);
    expect(total(metrics, 'notify_token_refreshes_total', { outcome: 'ok' })).toBeGreaterThanOrEqual(4);
    expect(total(metrics, 'notify_token_refreshes_total', { outcome: 'refused' })).toBeGreaterThanOrEqual(3);
  });
});
