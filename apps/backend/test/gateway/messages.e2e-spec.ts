import type { NotificationView } from '@notify-gateway/contracts';
import { publish, uniqueTitle } from '../support/http';
import { collect, connect, nextEvent, request, settle, waitForDisconnect, type ClientSocket } from '../support/sockets';
import { startApp, type RunningApp } from '../support/test-app';
import { demoUser, tokenFor } from '../support/users';

/** Nothing a client sees may look like a stack, SQL, a library's words or a path. */
const LEAK = /\bat .+\(|\.ts:\d|\.js:\d|node_modules|SELECT |INSERT |prisma|Prisma|postgres|ECONN|TypeError|undefined is not/;

describe('client events, acks, validation, limits', () => {
  let running: RunningApp;
  let adminToken: string;
  let userId: string;
  const clientFacing: unknown[] = [];

  beforeAll(async () => {
    running = await startApp({ WS_RATE_LIMIT_POINTS: '20', WS_RATE_LIMIT_DURATION: '60', WS_MAX_PAYLOAD_BYTES: '4096' });
    adminToken = await tokenFor('admin@acme.test');
    userId = (await demoUser('user@acme.test')).id;
  });
  afterAll(async () => {
    expect(clientFacing.filter((payload) => LEAK.test(JSON.stringify(payload)))).toEqual([]);
    await running.close();
  });

  async function userSocket(email: 'user@acme.test' | 'admin@acme.test' | 'user@globex.test' = 'user@acme.test'): Promise<ClientSocket> {
    const socket = await connect(running.url, { token: await tokenFor(email) });
    socket.on('notification:error', (payload) => clientFacing.push(payload));
    return socket;
  }

  async function notifyUser(): Promise<NotificationView> {
    const response = await publish(running.url, adminToken, { title: uniqueTitle('msg'), content: 'c', scope: 'USER', userId });
    expect(response.status).toBe(201);
    return response.body as unknown as NotificationView;
  }

  it('mark-read acks ok and tells the user\'s other sockets, not the sender', async () => {
    const [a, b] = [await userSocket(), await userSocket()];
    const readByA = collect(a, 'notification:read');
    const notification = await notifyUser();
    const onB = nextEvent(b, 'notification:read');
    expect(await request(a, 'notification:mark-read', { notificationId: notification.id })).toEqual({ ok: true });
    expect(await onB).toEqual({ id: notification.id });
    await settle(200);
    expect(readByA).toEqual([]);
    a.close();
    b.close();
  });

  it('mark-read of a notification the caller cannot see is NOT_FOUND', async () => {
    const other = await userSocket('user@globex.test');
    const notification = await notifyUser();
    const ack = await request(other, 'notification:mark-read', { notificationId: notification.id });
    expect(ack).toEqual({ ok: false, error: { code: 'NOT_FOUND', message: 'Not found' } });
    clientFacing.push(ack);
    other.close();
  });

  it('mark-all-read acks the count; sync returns what was missed after a cursor, in order', async () => {
    const socket = await userSocket();
    await request(socket, 'notification:mark-all-read', {});
    const start = await request(socket, 'notification:sync', {});
    if (!start.ok) throw new Error('sync failed');
    let cursor = start.cursor;
    while (true) {
      const page = await request(socket, 'notification:sync', { after: cursor ?? '0' });
      if (!page.ok) throw new Error('sync failed');
      cursor = page.cursor;
      if (!page.hasMore) break;
    }
    const missed = [await notifyUser(), await notifyUser(), await notifyUser()];
    const synced = await request(socket, 'notification:sync', { after: cursor ?? '0', limit: 100 });
    expect(synced).toMatchObject({ ok: true, hasMore: false });
    if (!synced.ok) throw new Error('sync failed');
    expect(synced.notifications.map((n) => n.id)).toEqual(missed.map((n) => n.id));
    expect(synced.cursor).toBe(missed[2].cursor);
    expect(await request(socket, 'notification:mark-all-read', {})).toEqual({ ok: true, count: 3 });
    socket.close();
  });

  it('create over the socket persists and delivers', async () => {
    const admin = await userSocket('admin@acme.test');
    const user = await userSocket();
    const delivered = nextEvent(user, 'notification:new');
    const ack = await request(admin, 'notification:create', { title: 'from socket', content: 'hello', priority: 'high', userId });
    expect(ack).toMatchObject({ ok: true, notification: { title: 'from socket', priority: 'high', scope: 'USER' } });
    expect((await delivered).title).toBe('from socket');
    admin.close();
    user.close();
  });

  it.each([
    ['missing notificationId', 'notification:mark-read', {}],
    ['notificationId not a uuid', 'notification:mark-read', { notificationId: "1' OR '1'='1" }],
    ['path-like id', 'notification:mark-read', { notificationId: '../../etc/passwd' }],
    ['unknown field', 'notification:mark-all-read', { everything: true }],
    ['cursor not a number', 'notification:sync', { after: 'abc' }],
    ['limit too large', 'notification:sync', { limit: 1000 }],
    ['payload not an object', 'notification:sync', 'hello'],
    ['title too long', 'notification:create', { title: 'x'.repeat(201), content: 'c', userId: '00000000-0000-4000-8000-000000000000' }],
    ['empty content', 'notification:create', { title: 't', content: '', userId: '00000000-0000-4000-8000-000000000000' }],
    ['bad priority', 'notification:create', { title: 't', content: 'c', priority: 'urgent' }],
    ['control characters', 'notification:create', { title: 't\u0000\u0007', content: 'c' }],
    ['prototype pollution', 'notification:create', { title: 't', content: 'c', data: JSON.parse('{"__proto__":{"admin":true}}') as object }],
  ])('%s gets VALIDATION_FAILED with field errors', async (_name, event, payload) => {
    const socket = await userSocket('admin@acme.test');
    const error = nextEvent(socket, 'notification:error');
    const ack = await request(socket, event as 'notification:sync', payload);
    expect(ack).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED', message: 'Validation failed' } });
    expect(await error).toMatchObject({ code: 'VALIDATION_FAILED' });
    if (!ack.ok) expect(Array.isArray(ack.error.errors)).toBe(true);
    clientFacing.push(ack);
    expect(socket.connected).toBe(true);
    socket.close();
  });

  it('an oversized message drops only its sender; a control socket keeps receiving', async () => {
    const control = await userSocket();
    const received = collect(control, 'notification:new');
    const sender = await userSocket('admin@acme.test');
    const dropped = waitForDisconnect(sender);
    sender.emit('notification:create', { title: 'big', content: 'x'.repeat(10_000) });
    expect(await dropped).toBe('transport close');
    const after = await notifyUser();
    await settle(300);
    expect(control.connected).toBe(true);
    expect(received.map((n) => n.id)).toContain(after.id);
    control.close();
  });

  it('the 21st event inside the window is rate-limited; the control socket is unaffected', async () => {
    const flooder = await connect(running.url, { token: await tokenFor('root@platform.test') });
    const control = await userSocket();
    const controlInbox = collect(control, 'notification:new');
    const notice = nextEvent(flooder, 'notification:rate-limit-exceeded');
    const acks = [];
    for (let i = 0; i < 21; i += 1) acks.push(await request(flooder, 'notification:sync', { limit: 1 }));
    expect(acks.slice(0, 20).every((ack) => ack.ok)).toBe(true);
    expect(acks[20]).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED' } });
    const payload = await notice;
    expect(payload).toMatchObject({ limit: 20, window: 60 });
    expect(payload.retryAfter).toBeGreaterThan(0);
    expect(payload.retryAfter).toBeLessThanOrEqual(60);
    const during = await notifyUser();
    await settle(300);
    expect(controlInbox.map((n) => n.id)).toContain(during.id);
    expect(await request(control, 'notification:sync', { limit: 1 })).toMatchObject({ ok: true });
    expect(running.logs.securityEvents('RATE_LIMIT_EXCEEDED').length).toBeGreaterThan(0);
    flooder.close();
    control.close();
  });
});
