import { createNotificationClient, type NotificationClient, type NotificationClientError, type StateChange, type TokenRequestReason, type Transport } from '@notify-gateway/client';
import type { NotificationPage, NotificationView } from '@notify-gateway/contracts';
import { ConnectionService } from '../../src/notifications/connection.service';
import { freePort } from '../support/ports';
import { http, publish, uniqueTitle } from '../support/http';
import { settle, until } from '../support/sockets';
import { startApp, type RunningApp } from '../support/test-app';
import { demoUser, tokenFor, type DemoEmail } from '../support/users';

/** What the application sees of a client. */
interface Observed {
  client: NotificationClient;
  notifications: NotificationView[];
  states: StateChange[];
  errors: NotificationClientError[];
  tokenReasons: TokenRequestReason[];
}

/** The newest cursor the user can see: start there instead of replaying the whole history. */
async function newestCursor(url: string, token: string): Promise<string | undefined> {
  const page = await http<NotificationPage>(`${url}/notifications?limit=1`, { token });
  return page.body.cursor ?? undefined;
}

describe('@notify-gateway/client against a listening app', () => {
  const clients: NotificationClient[] = [];
  let adminToken: string;
  let userId: string;

  beforeAll(async () => {
    adminToken = await tokenFor('admin@acme.test');
    userId = (await demoUser('user@acme.test')).id;
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  function observe(
    url: string,
    options: {
      transports?: Transport[];
      cursor?: string;
      syncPageSize?: number;
      token?: (reason: TokenRequestReason, call: number) => Promise<string>;
      email?: DemoEmail;
      inBandRefresh?: boolean;
    } = {},
  ): Observed {
    const observed: Omit<Observed, 'client'> = { notifications: [], states: [], errors: [], tokenReasons: [] };
    const email = options.email ?? 'user@acme.test';
    const client = createNotificationClient({
      url,
      transports: options.transports ?? ['websocket'],
      cursor: options.cursor,
      syncPageSize: options.syncPageSize,
      inBandRefresh: options.inBandRefresh,
      reconnectDelayMs: 100,
      reconnectDelayMaxMs: 500,
      getToken: ({ reason }) => {
        observed.tokenReasons.push(reason);
        return options.token ? options.token(reason, observed.tokenReasons.length) : tokenFor(email);
      },
      onNotification: (notification) => observed.notifications.push(notification),
    });
    client.on('state', (change) => observed.states.push(change));
    client.on('error', (error) => observed.errors.push(error));
    clients.push(client);
    return { client, ...observed };
  }

  const toUser = (url: string, title: string): Promise<unknown> =>
    publish(url, adminToken, { title, content: 'for the client test', scope: 'USER', userId }).then((response) => {
      expect(response.status).toBe(201);
      return response.body;
    });

  describe('one server', () => {
    let running: RunningApp;

    beforeAll(async () => {
      running = await startApp();
    });
    afterAll(() => running.close());

    it('connects with a token provider, receives a notification posted through REST and marks it read', async () => {
      const userToken = await tokenFor('user@acme.test');
      const seen = observe(running.url, { cursor: await newestCursor(running.url, userToken) });
      await until(() => seen.client.state === 'live', 'live');
      expect(seen.tokenReasons).toEqual(['connect']);
      expect(seen.states.map((change) => change.state)).toEqual(['connecting', 'syncing', 'live']);

      const title = uniqueTitle('client');
      await toUser(running.url, title);
      await until(() => seen.notifications.some((n) => n.title === title), 'the notification');
      const received = seen.notifications.find((n) => n.title === title) as NotificationView;
      expect(seen.client.lastCursor).toBe(received.cursor);

      const before = await http<{ count: number }>(`${running.url}/notifications/unread-count`, { token: userToken });
      const reads: unknown[] = [];
      seen.client.on('read', (event) => reads.push(event));
      await seen.client.markRead(received.id);
      expect(reads).toEqual([{ id: received.id }]);
      const after = await http<{ count: number }>(`${running.url}/notifications/unread-count`, { token: userToken });
      expect(after.body.count).toBe(before.body.count - 1);
      await expect(seen.client.markRead('00000000-0000-4000-8000-000000000000')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });

    it('without a cursor or position, loads the latest page only (never the whole history), oldest of it first', async () => {
      const titles = [uniqueTitle('history'), uniqueTitle('history'), uniqueTitle('history')];
      for (const title of titles) await toUser(running.url, title);
      const seen = observe(running.url, { syncPageSize: 2 });
      await until(() => seen.client.state === 'live', 'live', 20_000);
      const ids = seen.notifications.map((n) => n.id);
      // One page of 2: the two newest, and nothing older (issue 20: a first connect is one page).
      expect(seen.notifications.map((n) => n.title)).toEqual(titles.slice(1));
      expect(new Set(ids).size).toBe(ids.length);
      const cursors = seen.notifications.map((n) => BigInt(n.cursor));
      expect(cursors).toEqual([...cursors].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      expect(seen.client.lastCursor).toBe(seen.notifications.at(-1)?.cursor);
    });

    it('refreshes the token and reconnects after UNAUTHORIZED', async () => {
      const seen = observe(running.url, {
        cursor: await newestCursor(running.url, await tokenFor('user@acme.test')),
        token: (_reason, call) => (call === 1 ? Promise.resolve('stale-token') : tokenFor('user@acme.test')),
      });
      await until(() => seen.client.state === 'live', 'live after a refresh');
      expect(seen.tokenReasons).toEqual(['connect', 'unauthorized']);
      expect(seen.errors.map((error) => error.code)).toEqual(['UNAUTHORIZED']);
    });

    it('stops after repeated UNAUTHORIZED instead of hammering the server', async () => {
      const seen = observe(running.url, { token: () => Promise.resolve('never-valid') });
      await until(() => seen.client.state === 'stopped', 'stopped');
      expect(seen.states.at(-1)).toEqual({ state: 'stopped', reason: 'UNAUTHORIZED' });
      expect(seen.tokenReasons).toEqual(['connect', 'unauthorized', 'unauthorized']);
    });

    it('fetches a new token and comes back when the server ends the session at TOKEN_EXPIRED', async () => {
      const seen = observe(running.url, {
        // The path an older server (no auth:refresh) takes; test/auth/token-refresh.e2e-spec.ts covers the in-band one.
        inBandRefresh: false,
        cursor: await newestCursor(running.url, await tokenFor('user@acme.test')),
        token: (_reason, call) => tokenFor('user@acme.test', call === 1 ? { expiresIn: 2 } : {}),
      });
      await until(() => seen.tokenReasons.includes('expired'), 'a token request after expiry', 8000);
      await until(() => seen.client.state === 'live', 'live again');
      expect(seen.tokenReasons).toEqual(['connect', 'expired']);

      const title = uniqueTitle('after expiry');
      await toUser(running.url, title);
      await until(() => seen.notifications.some((n) => n.title === title), 'a notification on the new session');
    });

    it('stops, and says why, when the user is cut off (USER_DISCONNECTED)', async () => {
      const seen = observe(running.url, { cursor: await newestCursor(running.url, await tokenFor('user@acme.test')) });
      await until(() => seen.client.state === 'live', 'live');
      running.app.get(ConnectionService).disconnectUser(userId, 'USER_DISCONNECTED');
      await until(() => seen.client.state === 'stopped', 'stopped');
      expect(seen.states.at(-1)).toEqual({ state: 'stopped', reason: 'USER_DISCONNECTED' });
      await settle(1000);
      expect(seen.tokenReasons).toEqual(['connect']);
      await expect(seen.client.markAllRead()).rejects.toMatchObject({ code: 'CLIENT_STOPPED' });
    });
  });

  describe('killing the server and starting it again', () => {
    let port: number;
    let server: RunningApp | undefined;
    let publisher: RunningApp;

    beforeAll(async () => {
      port = await freePort();
      // Another instance on the same database: where notifications are published while the first is down.
      publisher = await startApp();
    });
    afterEach(async () => {
      for (const client of clients.splice(0)) client.close();
      // Let a polling client's last request (its close packet) finish before the server goes.
      await settle(200);
      await server?.close();
    });
    afterAll(() => publisher.close());

    it.each<Transport>(['websocket', 'polling'])('over %s: the client reconnects and the application sees every notification sent meanwhile, once', async (transport) => {
      server = await startApp({}, port);
      const url = server.url;
      const seen = observe(url, { transports: [transport], cursor: await newestCursor(url, await tokenFor('user@acme.test')) });
      await until(() => seen.client.state === 'live', 'live');
      expect(seen.client.transport).toBe(transport);

      const before = uniqueTitle(`before restart ${transport}`);
      await toUser(url, before);
      await until(() => seen.notifications.some((n) => n.title === before), 'the live notification');

      await server.close();
      await until(() => seen.client.state === 'reconnecting', 'reconnecting');
      const meanwhile = Array.from({ length: 5 }, (_, i) => uniqueTitle(`while down ${transport} ${i}`));
      for (const title of meanwhile) await toUser(publisher.url, title);
      await settle(300);
      expect(seen.notifications.some((n) => meanwhile.includes(n.title))).toBe(false);

      server = await startApp({}, port);
      await until(() => meanwhile.every((title) => seen.notifications.some((n) => n.title === title)), 'the missed notifications', 15_000);
      await until(() => seen.client.state === 'live', 'live again');

      const after = uniqueTitle(`after restart ${transport}`);
      await toUser(url, after);
      await until(() => seen.notifications.some((n) => n.title === after), 'a live notification after the restart');
      await settle(300);

      const titles = seen.notifications.map((n) => n.title);
      expect(titles).toEqual([before, ...meanwhile, after]);
      expect(new Set(seen.notifications.map((n) => n.id)).size).toBe(titles.length);
      expect(seen.client.lastCursor).toBe(seen.notifications.at(-1)?.cursor);
      expect(seen.tokenReasons).toEqual(['connect', ...seen.tokenReasons.slice(1).map(() => 'reconnect')]);
      expect(seen.states.filter((change) => change.state === 'stopped')).toEqual([]);
    }, 45_000);
  });
});
