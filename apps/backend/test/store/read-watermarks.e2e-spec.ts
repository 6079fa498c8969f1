import type { NotificationPage, NotificationView } from '@notify-gateway/contracts';
import { NotificationService } from '../../src/notifications/notification.service';
import { NotificationPruner } from '../../src/notifications/retention/notification-pruner';
import { http } from '../support/http';
import { connect, request, type ClientSocket } from '../support/sockets';
import { openStream } from '../support/sse';
import { startApp, type RunningApp } from '../support/test-app';
import { freshPerson, freshTenant, type Person } from './fresh-tenant';
import { sql } from '../support/users';

/**
 * Read watermarks (issue 20): mark-all-read moves the reader's watermark of each stream it reads
 * to the head, O(streams), instead of writing a read row per unread notification. A notification
 * is read when its offset is at or below the watermark of its stream, or when it has a read row;
 * every read flag, the unread counts and mark-read follow that one rule.
 */
describe('read watermarks', () => {
  let running: RunningApp;
  let service: NotificationService;
  const sockets: ClientSocket[] = [];

  beforeAll(async () => {
    running = await startApp();
    service = running.app.get(NotificationService);
  });
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.disconnect();
  });
  afterAll(() => running.close());

  const count = async (person: Person): Promise<number> => {
    const reply = await http<{ count: number }>(`${running.url}/notifications/unread-count`, { token: person.token });
    expect(reply.status).toBe(200);
    return reply.body.count;
  };
  const readAll = async (person: Person): Promise<number> => {
    const reply = await http<{ ok: boolean; count: number }>(`${running.url}/notifications/read-all`, { token: person.token, body: {} });
    expect(reply.status).toBe(200);
    return reply.body.count;
  };
  /** Title → read flag on the latest page. */
  const latestFlags = async (person: Person): Promise<Record<string, boolean | undefined>> => {
    const page = await http<NotificationPage>(`${running.url}/notifications?limit=100`, { token: person.token });
    expect(page.status).toBe(200);
    return Object.fromEntries(page.body.items.map((item) => [item.title, item.read]));
  };
  const readRows = async (userId: string): Promise<number> =>
    Number((await sql<{ n: string }>('SELECT count(*)::text AS n FROM notification_reads WHERE user_id = $1', [userId]))[0]?.n);
  const marksOf = async (userId: string): Promise<{ stream: string; read_offset: string }[]> =>
    sql<{ stream: string; read_offset: string }>('SELECT stream, read_offset::text FROM notification_read_marks WHERE user_id = $1 ORDER BY stream', [userId]);

  it('mark-all-read: count 0 after, one watermark per stream and no read rows; a later publish is unread', async () => {
    const { tenantId, admin } = await freshTenant();
    for (let i = 0; i < 3; i += 1) await service.sendToUser(admin.id, { title: `mine ${i}`, content: 'c' });
    for (let i = 0; i < 4; i += 1) await service.sendToTenant(tenantId, { title: `tenant ${i}`, content: 'c' });
    expect(await count(admin)).toBe(7);

    expect(await readAll(admin)).toBe(7);
    expect(await count(admin)).toBe(0);
    expect(await readRows(admin.id)).toBe(0);
    expect(await marksOf(admin.id)).toEqual([
      { stream: `tenant:${tenantId}`, read_offset: '4' },
      { stream: `user:${admin.id}`, read_offset: '3' },
    ]);
    expect(Object.values(await latestFlags(admin))).toEqual(Array(7).fill(true));
    // A second call has nothing left to mark and moves nothing back.
    expect(await readAll(admin)).toBe(0);

    await service.sendToTenant(tenantId, { title: 'later tenant', content: 'c' });
    await service.sendToUser(admin.id, { title: 'later mine', content: 'c' });
    expect(await count(admin)).toBe(2);
    const flags = await latestFlags(admin);
    expect(flags['later tenant']).toBe(false);
    expect(flags['later mine']).toBe(false);
    expect(flags['tenant 3']).toBe(true);
  });

  it("a SUPER_ADMIN's read-all moves its user, tenant and global watermarks; another SUPER_ADMIN's global stays unread", async () => {
    const { tenantId } = await freshTenant();
    const [root, otherRoot] = [await freshPerson('SUPER_ADMIN', tenantId), await freshPerson('SUPER_ADMIN', tenantId)];
    await service.sendToUser(root.id, { title: 'mine', content: 'c' });
    await service.sendToTenant(tenantId, { title: 'tenant', content: 'c' });
    // The global stream is every test's: its count may sit at the window, so compare, not add.
    await service.sendGlobal({ title: 'global', content: 'c' });
    const otherBefore = await count(otherRoot);
    expect(otherBefore).toBeGreaterThan(0);

    await readAll(root);
    expect(await count(root)).toBe(0);
    expect((await marksOf(root.id)).map((m) => m.stream)).toEqual(['global', `tenant:${tenantId}`, `user:${root.id}`]);
    expect(await count(otherRoot)).toBe(otherBefore);
    const flags = await latestFlags(root);
    expect([flags.mine, flags.tenant, flags.global]).toEqual([true, true, true]);
    expect((await latestFlags(otherRoot)).global).toBe(false);
  });

  it('mark-read of one below the watermark is idempotent and writes nothing; above it, one read row', async () => {
    const { user } = await freshTenant();
    const old = await service.sendToUser(user.id, { title: 'old', content: 'c' });
    await readAll(user);
    const fresh = await service.sendToUser(user.id, { title: 'fresh', content: 'c' });
    expect(await count(user)).toBe(1);

    for (let i = 0; i < 2; i += 1) {
      const reply = await http(`${running.url}/notifications/${old.id}/read`, { token: user.token, method: 'PATCH' });
      expect(reply.status).toBe(200);
    }
    expect(await readRows(user.id)).toBe(0);
    expect(await count(user)).toBe(1);
    expect((await latestFlags(user)).old).toBe(true);

    for (let i = 0; i < 2; i += 1) expect((await http(`${running.url}/notifications/${fresh.id}/read`, { token: user.token, method: 'PATCH' })).status).toBe(200);
    expect(await readRows(user.id)).toBe(1);
    expect(await count(user)).toBe(0);
    expect(await latestFlags(user)).toEqual({ fresh: true, old: true });
    // Mark-all-read counts only what was unread: the read row above the watermark is not unread.
    expect(await readAll(user)).toBe(0);
  });

  it("a tenant notification read by one admin stays unread for the other; a USER's read-all leaves the tenant stream alone", async () => {
    const { tenantId, admin, otherAdmin, user } = await freshTenant();
    const broadcast = await service.sendToTenant(tenantId, { title: 'for admins', content: 'c' });
    await service.sendToUser(user.id, { title: 'for the user', content: 'c' });
    expect(await readAll(admin)).toBe(1);
    expect(await count(admin)).toBe(0);
    expect(await count(otherAdmin)).toBe(1);
    expect((await latestFlags(otherAdmin))['for admins']).toBe(false);

    expect(await readAll(user)).toBe(1);
    expect((await marksOf(user.id)).map((m) => m.stream)).toEqual([`user:${user.id}`]);
    expect(await count(otherAdmin)).toBe(1);
    // The user cannot read (or mark) the tenant's broadcast at all.
    expect((await http(`${running.url}/notifications/${broadcast.id}/read`, { token: user.token, method: 'PATCH' })).status).toBe(404);
    expect(await count(otherAdmin)).toBe(1);
  });

  it('read flags follow the watermark on socket.io sync, REST ?after=, positions and SSE replay', async () => {
    const { tenantId, admin } = await freshTenant();
    const before: NotificationView[] = [];
    for (let i = 0; i < 2; i += 1) before.push(await service.sendToTenant(tenantId, { title: `t${i}`, content: 'c' }));
    const socket = await connect(running.url, { token: admin.token });
    sockets.push(socket);
    const start = await request(socket, 'notification:sync', {});
    if (!start.ok) throw new Error('sync failed');
    expect(start.notifications.map((n) => n.read)).toEqual([false, false]);

    const ack = await request(socket, 'notification:mark-all-read', {});
    expect(ack).toEqual({ ok: true, count: 2 });
    await service.sendToTenant(tenantId, { title: 'after', content: 'c' });

    const fromZero = (await http<NotificationPage>(`${running.url}/notifications?after=0&limit=100`, { token: admin.token })).body;
    expect(fromZero.items.map((n) => [n.title, n.read])).toEqual([
      ['t0', true],
      ['t1', true],
      ['after', false],
    ]);
    const epoch = before[0]?.epoch as string;
    const synced = await request(socket, 'notification:sync', { position: `t.${epoch}.0`, limit: 100 });
    if (!synced.ok) throw new Error('sync failed');
    expect(synced.notifications.map((n) => [n.title, n.read])).toEqual([
      ['t0', true],
      ['t1', true],
      ['after', false],
    ]);

    const stream = await openStream(running.url, { token: admin.token, lastEventId: `t.${epoch}.0` });
    try {
      const replayed = await stream.waitForCount((m) => m.event === 'notification:new', 3);
      expect(replayed.map((m) => (m.data as NotificationView).read)).toEqual([true, true, false]);
    } finally {
      stream.close();
    }
  });

  it('a watermark holds only for the epoch it was taken in: a stream created again starts unread', async () => {
    const { user } = await freshTenant();
    const stream = `user:${user.id}`;
    for (let i = 0; i < 3; i += 1) await service.sendToUser(user.id, { title: `old ${i}`, content: 'c' });
    await readAll(user);
    // The stream reset by hand (its rows and its counter gone): offsets start over at 1, new epoch.
    await sql('DELETE FROM notifications WHERE stream = $1', [stream]);
    await sql('DELETE FROM notification_streams WHERE stream = $1', [stream]);
    const again = await service.sendToUser(user.id, { title: 'new epoch', content: 'c' });
    expect(again.offset).toBe('1');
    expect(await count(user)).toBe(1);
    expect((await latestFlags(user))['new epoch']).toBe(false);
    // Mark-read under the new epoch writes a row (the old watermark covers nothing here).
    expect((await http(`${running.url}/notifications/${again.id}/read`, { token: user.token, method: 'PATCH' })).status).toBe(200);
    expect(await readRows(user.id)).toBe(1);
    expect(await readAll(user)).toBe(0);
    expect(await marksOf(user.id)).toEqual([{ stream, read_offset: '1' }]);
  });

  it('counts stay bounded to the newest window above the watermark; pruning leaves the watermark right', async () => {
    const { user } = await freshTenant();
    const stream = `user:${user.id}`;
    for (let i = 0; i < 4; i += 1) await service.sendToUser(user.id, { title: `n${i}`, content: 'c' });
    await readAll(user);
    await service.sendToUser(user.id, { title: 'n4', content: 'c' });
    // Prune everything but the newest: the watermark names offset 4, which no longer exists.
    await sql(`UPDATE notifications SET created_at = now() - interval '100 days' WHERE stream = $1 AND stream_offset <= 4`, [stream]);
    expect((await running.app.get(NotificationPruner).runOnce()).ran).toBe(true);
    expect(await count(user)).toBe(1);
    expect(await latestFlags(user)).toEqual({ n4: false });
    expect(await readAll(user)).toBe(1);
    expect(await count(user)).toBe(0);
  });

  it("deleting a user takes its watermarks and read rows along; another user's stay", async () => {
    const { tenantId, admin, otherAdmin } = await freshTenant();
    const broadcast = await service.sendToTenant(tenantId, { title: 'b', content: 'c' });
    await readAll(admin);
    await readAll(otherAdmin);
    await http(`${running.url}/notifications/${broadcast.id}/read`, { token: admin.token, method: 'PATCH' });
    const later = await service.sendToTenant(tenantId, { title: 'b2', content: 'c' });
    await http(`${running.url}/notifications/${later.id}/read`, { token: admin.token, method: 'PATCH' });
    expect(await readRows(admin.id)).toBe(1);
    await sql('DELETE FROM users WHERE id = $1', [admin.id]);
    expect(await marksOf(admin.id)).toEqual([]);
    expect(await readRows(admin.id)).toBe(0);
    expect(await marksOf(otherAdmin.id)).toEqual([{ stream: `tenant:${tenantId}`, read_offset: '1' }]);
    expect(await count(otherAdmin)).toBe(1);
  });
});
