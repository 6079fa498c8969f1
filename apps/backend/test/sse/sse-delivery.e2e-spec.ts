import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { NotificationView } from '@notify-gateway/contracts';
import { http } from '../support/http';
import { settle } from '../support/sockets';
import { eventSource, freshUser, isNotification, mintTicket, notificationsOf, openStream, postNotification, type EventSourceClient, type StreamClient } from '../support/sse';
import { startApp, type RunningApp } from '../support/test-app';
import { tokenFor } from '../support/users';

describe('SSE delivery: GET /notifications/stream', () => {
  let running: RunningApp;
  let adminAcme: string;
  let adminGlobex: string;
  const cleanup: (() => void)[] = [];

  beforeAll(async () => {
    running = await startApp({ SSE_HEARTBEAT_MS: '200' });
    adminAcme = await tokenFor('admin@acme.test');
    adminGlobex = await tokenFor('admin@globex.test');
  });
  afterEach(() => {
    for (const close of cleanup.splice(0)) close();
  });
  afterAll(() => running.close());

  const track = <T extends StreamClient | EventSourceClient>(client: T): T => {
    cleanup.push(() => client.close());
    return client;
  };

  it('answers with proxy-safe headers, a retry line first, and heartbeats', async () => {
    const stream = track(await openStream(running.url, { token: await tokenFor('user@acme.test') }));
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(stream.headers.get('cache-control')).toBe('no-cache, no-transform');
    expect(stream.headers.get('x-accel-buffering')).toBe('no');
    await settle(500);
    expect(stream.retry).toBe(3000);
    expect(stream.comments.filter((comment) => comment === 'ping').length).toBeGreaterThanOrEqual(1);
  });

  it('a ticket stream (EventSource) and a Bearer stream both receive a notification posted by an admin', async () => {
    const tag = randomUUID();
    const user = await freshUser('admin@acme.test');
    const userToken = user.token();

    const viaTicket = track(eventSource(running.url, { ticket: await mintTicket(running.url, userToken) }));
    await viaTicket.opened();
    const viaBearer = track(eventSource(running.url, { token: userToken }));
    await viaBearer.opened();

    const posted = await postNotification(running.url, adminAcme, { title: `hello ${tag}`, content: 'for user', userId: user.id });
    for (const events of [viaTicket, viaBearer]) {
      const [message] = await events.waitForCount(isNotification(tag), 1);
      expect(message.data).toEqual(posted);
      // The event id is the position after the notification, so a reconnect resumes after it.
      expect(message.id).toBe(`u.${posted.epoch}.${posted.offset}`);
    }
  });

  it("never delivers another user's or another tenant's notification", async () => {
    const tag = randomUUID();
    const [user, otherUser, userGlobex] = await Promise.all([freshUser('admin@acme.test'), freshUser('admin@acme.test'), freshUser('admin@globex.test')]);
    const userStream = track(await openStream(running.url, { token: user.token() }));
    const otherStream = track(await openStream(running.url, { ticket: await mintTicket(running.url, otherUser.token()) }));
    const adminStream = track(await openStream(running.url, { ticket: await mintTicket(running.url, adminAcme) }));
    const globexStream = track(await openStream(running.url, { token: userGlobex.token() }));

    const toOther = await postNotification(running.url, adminAcme, { title: `other user ${tag}`, content: 'x', userId: otherUser.id });
    const toTenant = await postNotification(running.url, adminAcme, { title: `acme tenant ${tag}`, content: 'x', scope: 'TENANT' });
    const toGlobex = await postNotification(running.url, adminGlobex, { title: `globex user ${tag}`, content: 'x', userId: userGlobex.id });
    const toUser = await postNotification(running.url, adminAcme, { title: `acme user ${tag}`, content: 'x', userId: user.id });

    await userStream.waitFor(isNotification(`acme user ${tag}`));
    await otherStream.waitFor(isNotification(`other user ${tag}`));
    await adminStream.waitFor(isNotification(`acme tenant ${tag}`));
    await globexStream.waitFor(isNotification(`globex user ${tag}`));
    await settle(500);

    expect(notificationsOf(userStream.messages, tag).map((view) => view.id)).toEqual([toUser.id]);
    expect(notificationsOf(otherStream.messages, tag).map((view) => view.id)).toEqual([toOther.id]);
    // A tenant admin gets the tenant broadcast, not the USER notifications of its users.
    expect(notificationsOf(adminStream.messages, tag).map((view) => view.id)).toEqual([toTenant.id]);
    expect(notificationsOf(globexStream.messages, tag).map((view) => view.id)).toEqual([toGlobex.id]);
    // Whatever else ran meanwhile, a USER-role stream only ever carries its own USER notifications.
    expect(notificationsOf(userStream.messages).every((view) => view.scope === 'USER')).toBe(true);
    expect(notificationsOf(globexStream.messages).every((view) => view.scope === 'USER')).toBe(true);
  });

  it('carries notification:read (without an id) when the user marks one read elsewhere', async () => {
    const tag = randomUUID();
    const user = await freshUser('admin@acme.test');
    const userToken = user.token();
    const stream = track(await openStream(running.url, { token: userToken }));
    const posted = await postNotification(running.url, adminAcme, { title: `to read ${tag}`, content: 'x', userId: user.id });
    await stream.waitFor(isNotification(tag));

    expect((await http(`${running.url}/notifications/${posted.id}/read`, { method: 'PATCH', token: userToken })).status).toBe(200);
    const read = await stream.waitFor((message) => message.event === 'notification:read' && (message.data as { id?: string }).id === posted.id);
    expect(read.id).toBeUndefined();
  });

  it('Last-Event-ID replays exactly the missed notifications, in order, then live ones', async () => {
    const tag = randomUUID();
    const user = await freshUser('admin@acme.test');
    const userToken = user.token();
    const post = (n: number): Promise<NotificationView> => postNotification(running.url, adminAcme, { title: `n${n} ${tag}`, content: 'x', userId: user.id });

    const first = track(await openStream(running.url, { token: userToken }));
    const seen = await post(1);
    const seenMessage = await first.waitFor(isNotification(tag));
    first.close();

    const missed = [await post(2), await post(3), await post(4)];
    const resumed = track(eventSource(running.url, { token: userToken, lastEventId: seenMessage.id }));
    const events = resumed;
    await resumed.opened();
    await events.waitForCount(isNotification(tag), 3);
    const live = await post(5);
    await events.waitForCount(isNotification(tag), 4);
    await settle(300);

    const received = events.messages.filter(isNotification(tag));
    expect(received.map((message) => (message.data as NotificationView).id)).toEqual([...missed, live].map((view) => view.id));
    expect(received.map((message) => message.id)).toEqual([...missed, live].map((view) => `u.${view.epoch}.${view.offset}`));

    // The older cursor still works as a Last-Event-ID: read as a position in each stream.
    const byCursor = track(await openStream(running.url, { token: userToken, lastEventId: seen.cursor }));
    await byCursor.waitForCount(isNotification(tag), 4);
    await settle(300);
    expect(byCursor.messages.filter(isNotification(tag)).map((message) => (message.data as NotificationView).id)).toEqual([...missed, live].map((view) => view.id));
  });

  it('has no gap and no duplicate at the seam: notifications published during the replay arrive once, in order', async () => {
    const tag = randomUUID();
    const user = await freshUser('admin@acme.test');
    const userToken = user.token();
    const post = (n: number): Promise<NotificationView> => postNotification(running.url, adminAcme, { title: `s${n} ${tag}`, content: 'x', userId: user.id });

    const anchor = await post(0);
    const expected: NotificationView[] = [];
    // More than one replay page (100), so what is published during the replay also lands in a later page.
    for (let n = 1; n <= 105; n += 1) expected.push(await post(n));

    // Hold the replay inside its database read (it needs the read state), without timing: the
    // notifications below commit and are published live while the stream is still replaying.
    const blocker = new Client({ connectionString: process.env.TEST_DATABASE_URL });
    await blocker.connect();
    let stream: StreamClient;
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE notification_reads IN ACCESS EXCLUSIVE MODE');
      const opening = openStream(running.url, { token: userToken, lastEventId: anchor.cursor });
      await until(async () => {
        const { rows } = await blocker.query<{ waiting: number }>(
          'SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))',
        );
        return rows[0].waiting > 0;
      });
      for (let n = 106; n <= 115; n += 1) expected.push(await post(n));
      await blocker.query('COMMIT');
      stream = track(await opening);
    } finally {
      await blocker.end();
    }

    await stream.waitForCount(isNotification(tag), expected.length, 20_000);
    await settle(300);
    const received = notificationsOf(stream.messages, tag);
    expect(received.map((view) => view.id)).toEqual(expected.map((view) => view.id));
    const cursors = notificationsOf(stream.messages).map((view) => view.cursor);
    expect(new Set(cursors).size).toBe(cursors.length);
  }, 60_000);

  it('refuses a malformed Last-Event-ID with 400 VALIDATION_FAILED', async () => {
    const token = await tokenFor('user@acme.test');
    for (const lastEventId of ['abc', '-1', '12345678901234567890', '1 OR 1=1', 'u.short.1', 'u.abcdEFGH12.01', 'u.abcdEFGH12.1_u.abcdEFGH12.2', `u.abcdEFGH12.${'9'.repeat(25)}`]) {
      const stream = await openStream(running.url, { token, lastEventId });
      expect({ lastEventId, status: stream.status, code: (stream.body as { code: string }).code }).toEqual({ lastEventId, status: 400, code: 'VALIDATION_FAILED' });
    }
  });
});

/** Polls a condition (no fixed sleep): resolves once it holds, fails after `timeoutMs`. */
async function until(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
