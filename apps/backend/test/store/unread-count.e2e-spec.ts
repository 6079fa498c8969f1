import { NOTIFICATION_LIMITS, type NotificationPage } from '@notify-gateway/contracts';
import { NotificationService } from '../../src/notifications/notification.service';
import { http } from '../support/http';
import { startApp, type RunningApp } from '../support/test-app';
import { freshTenant } from './fresh-tenant';
import { sql } from '../support/users';

/**
 * Unread counts that stay cheap (issue 20): an ADMIN's count spans its user stream and its
 * tenant's, and counts within the newest NOTIFICATION_LIMITS.unreadCountWindow of each stream,
 * so it never scans the tenant's history.
 */
describe('unread counts', () => {
  let running: RunningApp;
  let service: NotificationService;

  beforeAll(async () => {
    running = await startApp();
    service = running.app.get(NotificationService);
  });
  afterAll(() => running.close());

  const count = async (token: string): Promise<number> => {
    const reply = await http<{ count: number }>(`${running.url}/notifications/unread-count`, { token });
    expect(reply.status).toBe(200);
    return reply.body.count;
  };

  it("an ADMIN's count spans its own and its tenant's stream; a USER's only its own; reads move both", async () => {
    const { tenantId, admin, user } = await freshTenant();
    for (let i = 0; i < 3; i += 1) await service.sendToUser(admin.id, { title: `mine ${i}`, content: 'c' });
    const broadcasts = [];
    for (let i = 0; i < 4; i += 1) broadcasts.push(await service.sendToTenant(tenantId, { title: `tenant ${i}`, content: 'c' }));
    await service.sendToUser(user.id, { title: 'for the user', content: 'c' });
    expect(await count(admin.token)).toBe(7);
    expect(await count(user.token)).toBe(1);

    const read = await http(`${running.url}/notifications/${(broadcasts[0] as { id: string }).id}/read`, { token: admin.token, method: 'PATCH' });
    expect(read.status).toBe(200);
    expect(await count(admin.token)).toBe(6);
    expect(await count(user.token)).toBe(1);

    expect((await http(`${running.url}/notifications/read-all`, { token: admin.token, body: {} })).status).toBe(200);
    expect(await count(admin.token)).toBe(0);
    await service.sendToTenant(tenantId, { title: 'later', content: 'c' });
    expect(await count(admin.token)).toBe(1);
  });

  it('counts within the newest window of each stream, and the latest page still lists the newest', async () => {
    const { tenantId, admin } = await freshTenant();
    const window = NOTIFICATION_LIMITS.unreadCountWindow;
    const stream = `tenant:${tenantId}`;
    await sql(`INSERT INTO notification_streams (stream, epoch, last_offset) VALUES ($1, 'abcdef012345', $2)`, [stream, window + 200]);
    await sql(
      `INSERT INTO notifications (id, scope, tenant_id, title, content, stream, stream_offset)
       SELECT gen_random_uuid(), 'TENANT', $2::uuid, 'old ' || g, 'c', $1, g FROM generate_series(1, $3::int) g`,
      [stream, tenantId, window + 200],
    );
    await service.sendToUser(admin.id, { title: 'mine', content: 'c' });
    expect(await count(admin.token)).toBe(window + 1);

    const latest = await http<NotificationPage>(`${running.url}/notifications?limit=3`, { token: admin.token });
    expect(latest.body.items.map((n) => n.title)).toEqual(['mine', `old ${window + 200}`, `old ${window + 199}`]);
    expect(latest.body.hasMore).toBe(true);
  });
});
