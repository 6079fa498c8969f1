import type { NotificationView } from '@notify-gateway/contracts';
import { NotificationService } from '../../src/notifications/notification.service';
import { http, uniqueTitle } from '../support/http';
import { collect, connect, nextEvent, request, settle, type ClientSocket } from '../support/sockets';
import { startApp, type RunningApp } from '../support/test-app';
import { demoUser, tokenFor } from '../support/users';

type Body = NotificationView & { code?: string };

/**
 * A UUID is the same id in either case (class-validator's IsUUID accepts both). A recipient or
 * tenant named in upper case must reach the same stream and room as the lower-case form, or the
 * publisher gets a 201 for a notification its recipient never sees.
 */
describe('ids named in upper case', () => {
  let app: RunningApp;
  let socket: ClientSocket;
  let user: { id: string; tenantId: string };

  beforeAll(async () => {
    app = await startApp();
    user = await demoUser('user@acme.test');
    socket = await connect(app.url, { token: await tokenFor('user@acme.test') });
  });
  afterAll(async () => {
    socket?.close();
    await app.close();
  });

  it('a USER notification to an upper-case recipient id reaches the recipient live and in sync, in its one stream', async () => {
    const inbox = collect(socket, 'notification:new');
    const title = uniqueTitle('upper recipient');
    const answer = await http<Body>(`${app.url}/notifications`, { token: await tokenFor('admin@acme.test'), body: { title, content: 'c', userId: user.id.toUpperCase() } });
    expect(answer.status).toBe(201);
    expect(answer.body.stream).toBe(`user:${user.id}`);
    for (let i = 0; i < 40 && !inbox.some((n) => n.title === title); i += 1) await settle(25);
    expect(inbox.filter((n) => n.title === title)).toHaveLength(1);
    const synced = await request(socket, 'notification:sync', { limit: 100 });
    expect(synced.ok && synced.notifications.filter((n) => n.title === title)).toHaveLength(1);
  });

  it("a notification marked read by its id in upper case: the user's other sessions hear the id they hold (lower case)", async () => {
    const token = await tokenFor('user@acme.test');
    const other = await connect(app.url, { token });
    try {
      const service = app.app.get(NotificationService);
      const byRest = await service.sendToUser(user.id, { title: uniqueTitle('read upper rest'), content: 'c' });
      const bySocket = await service.sendToUser(user.id, { title: uniqueTitle('read upper socket'), content: 'c' });
      const heardRest = nextEvent(other, 'notification:read');
      expect((await http(`${app.url}/notifications/${byRest.id.toUpperCase()}/read`, { token, method: 'PATCH' })).status).toBe(200);
      expect(await heardRest).toEqual({ id: byRest.id });
      const heardSocket = nextEvent(other, 'notification:read');
      expect(await request(socket, 'notification:mark-read', { notificationId: bySocket.id.toUpperCase() })).toEqual({ ok: true });
      expect(await heardSocket).toEqual({ id: bySocket.id });
    } finally {
      other.close();
    }
  });

  it("an ADMIN naming its own tenant in upper case broadcasts to it; host code's upper-case ids land in the same streams", async () => {
    const admin = await demoUser('admin@acme.test');
    const answer = await http<Body>(`${app.url}/notifications`, { token: await tokenFor('admin@acme.test'), body: { title: uniqueTitle('upper tenant'), content: 'c', scope: 'TENANT', tenantId: admin.tenantId.toUpperCase() } });
    expect(answer.status).toBe(201);
    expect(answer.body.stream).toBe(`tenant:${admin.tenantId}`);
    const service = app.app.get(NotificationService);
    expect((await service.sendToUser(user.id.toUpperCase(), { title: uniqueTitle('host upper'), content: 'c' })).stream).toBe(`user:${user.id}`);
    expect((await service.sendToTenant(admin.tenantId.toUpperCase(), { title: uniqueTitle('host upper tenant'), content: 'c' })).stream).toBe(`tenant:${admin.tenantId}`);
  });
});
