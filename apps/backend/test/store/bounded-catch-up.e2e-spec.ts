import { createNotificationClient, type NotificationClient, type StateChange } from '@notify-gateway/client';
import type { NotificationPage, NotificationView, ResetEvent, StreamReset } from '@notify-gateway/contracts';
import { NotificationService } from '../../src/notifications/notification.service';
import { NotificationPruner } from '../../src/notifications/retention/notification-pruner';
import { http } from '../support/http';
import { connect, request, settle, type ClientSocket, until } from '../support/sockets';
import { freshUser, openStream, type TestUser } from '../support/sse';
import { startApp, type RunningApp } from '../support/test-app';
import { sql } from '../support/users';

const CATCH_UP_MAX = 5;

/**
 * Bounded, truthful catch-up (issue 20): a position further behind than CATCH_UP_MAX, or whose
 * next offsets were pruned, is answered `reset` on socket.io, SSE and REST, never replayed in
 * part; a position within bounds is replayed as before.
 */
describe('bounded catch-up: reset on every transport', () => {
  let running: RunningApp;
  let service: NotificationService;
  const sockets: ClientSocket[] = [];
  const clients: NotificationClient[] = [];

  beforeAll(async () => {
    running = await startApp({ CATCH_UP_MAX: String(CATCH_UP_MAX) });
    service = running.app.get(NotificationService);
  });
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.disconnect();
    for (const client of clients.splice(0)) client.close();
  });
  afterAll(() => running.close());

  async function userWith(count: number): Promise<{ user: TestUser; published: NotificationView[] }> {
    const user = await freshUser('user@acme.test');
    const published: NotificationView[] = [];
    for (let i = 1; i <= count; i += 1) published.push(await service.sendToUser(user.id, { title: `n${i}`, content: 'c' }));
    return { user, published };
  }

  const positionAt = (epoch: string, offset: number): string => `u.${epoch}.${offset}`;

  /** Backdates a user's first `count` notifications past the horizon and prunes them. */
  async function pruneFirst(user: TestUser, count: number): Promise<void> {
    await sql(`UPDATE notifications SET created_at = now() - interval '100 days' WHERE stream = $1 AND stream_offset <= $2`, [`user:${user.id}`, count]);
    const result = await running.app.get(NotificationPruner).runOnce();
    expect(result.ran).toBe(true);
  }

  describe('socket.io notification:sync', () => {
    it('within CATCH_UP_MAX: replayed, no reset', async () => {
      const { user, published } = await userWith(CATCH_UP_MAX + 3);
      const socket = await connect(running.url, { token: user.token() });
      sockets.push(socket);
      const epoch = (published[0] as NotificationView).epoch;
      const ack = await request(socket, 'notification:sync', { position: positionAt(epoch, 3) });
      if (!ack.ok) throw new Error(ack.error.code);
      expect(ack.reset).toEqual([]);
      expect(ack.notifications.map((n) => n.offset)).toEqual(['4', '5', '6', '7', '8']);
    });

    it('further behind than CATCH_UP_MAX: reset TOO_FAR_BEHIND, nothing replayed, the head as position', async () => {
      const { user, published } = await userWith(CATCH_UP_MAX + 3);
      const socket = await connect(running.url, { token: user.token() });
      sockets.push(socket);
      const epoch = (published[0] as NotificationView).epoch;
      const ack = await request(socket, 'notification:sync', { position: positionAt(epoch, 2) });
      if (!ack.ok) throw new Error(ack.error.code);
      expect(ack.reset).toEqual<StreamReset[]>([{ stream: `user:${user.id}`, reason: 'TOO_FAR_BEHIND' }]);
      expect(ack.notifications).toEqual([]);
      expect(ack.position).toBe(positionAt(epoch, CATCH_UP_MAX + 3));
    });

    it('older than what the store holds: reset PRUNED, never the partial rest', async () => {
      const { user, published } = await userWith(6);
      await pruneFirst(user, 3);
      const socket = await connect(running.url, { token: user.token() });
      sockets.push(socket);
      const epoch = (published[0] as NotificationView).epoch;
      const stale = await request(socket, 'notification:sync', { position: positionAt(epoch, 1) });
      if (!stale.ok) throw new Error(stale.error.code);
      expect(stale.reset).toEqual<StreamReset[]>([{ stream: `user:${user.id}`, reason: 'PRUNED' }]);
      expect(stale.notifications).toEqual([]);
      // The reader that held everything pruned is still whole: it continues.
      const whole = await request(socket, 'notification:sync', { position: positionAt(epoch, 3) });
      if (!whole.ok) throw new Error(whole.error.code);
      expect(whole.reset).toEqual([]);
      expect(whole.notifications.map((n) => n.offset)).toEqual(['4', '5', '6']);
    });
  });

  describe('REST GET /notifications?position=', () => {
    it('answers the reset flag for a stale position and replays a fresh one', async () => {
      const { user, published } = await userWith(CATCH_UP_MAX + 2);
      const epoch = (published[0] as NotificationView).epoch;
      const stale = await http<NotificationPage>(`${running.url}/notifications?position=${positionAt(epoch, 0)}`, { token: user.token() });
      expect(stale.status).toBe(200);
      expect(stale.body.reset).toEqual([{ stream: `user:${user.id}`, reason: 'TOO_FAR_BEHIND' }]);
      expect(stale.body.items).toEqual([]);
      const fresh = await http<NotificationPage>(`${running.url}/notifications?position=${positionAt(epoch, 2)}`, { token: user.token() });
      expect(fresh.body.reset).toEqual([]);
      expect(fresh.body.items).toHaveLength(CATCH_UP_MAX);
    });
  });

  describe('SSE Last-Event-ID', () => {
    it('a stale id gets notification:reset and no replay, then live events', async () => {
      const { user, published } = await userWith(6);
      await pruneFirst(user, 2);
      const epoch = (published[0] as NotificationView).epoch;
      const stream = await openStream(running.url, { token: user.token(), lastEventId: positionAt(epoch, 1) });
      try {
        expect(stream.status).toBe(200);
        const reset = await stream.waitFor((message) => message.event === 'notification:reset');
        expect((reset.data as ResetEvent).reset).toEqual([{ stream: `user:${user.id}`, reason: 'PRUNED' }]);
        expect(reset.id).toBe(positionAt(epoch, 6));
        const live = await service.sendToUser(user.id, { title: 'after the reset', content: 'c' });
        const next = await stream.waitFor((message) => message.event === 'notification:new');
        expect((next.data as NotificationView).id).toBe(live.id);
        // Nothing of the partial history was replayed.
        expect(stream.messages.filter((message) => message.event === 'notification:new')).toHaveLength(1);
      } finally {
        stream.close();
      }
    });

    it('a fresh id is replayed without a reset', async () => {
      const { user, published } = await userWith(4);
      const epoch = (published[0] as NotificationView).epoch;
      const stream = await openStream(running.url, { token: user.token(), lastEventId: positionAt(epoch, 1) });
      try {
        const replayed = await stream.waitForCount((message) => message.event === 'notification:new', 3);
        expect(replayed.map((message) => (message.data as NotificationView).offset)).toEqual(['2', '3', '4']);
        expect(stream.messages.some((message) => message.event === 'notification:reset')).toBe(false);
      } finally {
        stream.close();
      }
    });
  });

  describe('packages/client', () => {
    function observe(user: TestUser, position?: string, syncPageSize?: number): { client: NotificationClient; seen: NotificationView[]; states: StateChange[] } {
      const seen: NotificationView[] = [];
      const states: StateChange[] = [];
      const client = createNotificationClient({
        url: running.url,
        transports: ['websocket'],
        position,
        syncPageSize,
        reconnectDelayMs: 100,
        getToken: () => Promise.resolve(user.token()),
        onNotification: (notification) => seen.push(notification),
      });
      client.on('state', (change) => states.push(change));
      clients.push(client);
      return { client, seen, states };
    }

    it('given a stale position: reports reset with the reason, loads the latest page, goes live, nothing twice', async () => {
      const { user, published } = await userWith(CATCH_UP_MAX + 4);
      const epoch = (published[0] as NotificationView).epoch;
      const { client, seen, states } = observe(user, positionAt(epoch, 1), 3);
      await until(() => client.state === 'live', 'live');
      expect(states.find((change) => change.state === 'reset')).toMatchObject({ state: 'reset', reason: 'TOO_FAR_BEHIND' });
      // The latest page (3), oldest of it first; nothing of what lies behind it.
      expect(seen.map((n) => n.offset)).toEqual(['7', '8', '9']);
      const live = await service.sendToUser(user.id, { title: 'live after reset', content: 'c' });
      await until(() => seen.some((n) => n.id === live.id), 'the live notification');
      await settle(200);
      const ids = seen.map((n) => n.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(seen.map((n) => n.offset)).toEqual(['7', '8', '9', '10']);
      expect(client.lastPosition).toBe(positionAt(epoch, 10));
    });

    it('a first connect without a position fetches one page, the latest', async () => {
      const { user } = await userWith(7);
      const { client, seen, states } = observe(user, undefined, 3);
      await until(() => client.state === 'live', 'live');
      expect(seen.map((n) => n.title)).toEqual(['n5', 'n6', 'n7']);
      expect(states.some((change) => change.state === 'reset')).toBe(false);
      const live = await service.sendToUser(user.id, { title: 'n8', content: 'c' });
      await until(() => seen.some((n) => n.id === live.id), 'the live notification');
      await settle(200);
      expect(seen.map((n) => n.title)).toEqual(['n5', 'n6', 'n7', 'n8']);
    });
  });
});
