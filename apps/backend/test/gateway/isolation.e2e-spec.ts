import type { NotificationView } from '@notify-gateway/contracts';
import { publish, uniqueTitle } from '../support/http';
import { collect, connect, request, settle, type ClientSocket } from '../support/sockets';
import { startApp, type RunningApp } from '../support/test-app';
import { demoUser, tokenFor, type DemoEmail } from '../support/users';

const EVERYONE: DemoEmail[] = ['root@platform.test', 'admin@acme.test', 'user@acme.test', 'admin@globex.test', 'user@globex.test'];

describe('rooms and isolation: every socket that must receive does, every other does not', () => {
  let running: RunningApp;
  const sockets = new Map<DemoEmail, ClientSocket>();
  const inbox = new Map<DemoEmail, NotificationView[]>();

  beforeAll(async () => {
    running = await startApp();
    for (const email of EVERYONE) {
      const socket = await connect(running.url, { token: await tokenFor(email) });
      sockets.set(email, socket);
      inbox.set(email, collect(socket, 'notification:new'));
    }
  });
  afterAll(async () => {
    for (const socket of sockets.values()) socket.close();
    await running.close();
  });

  /** Publishes, waits for delivery, and returns who got it. */
  async function recipientsOf(publisher: DemoEmail, body: Record<string, unknown>): Promise<DemoEmail[]> {
    const title = uniqueTitle('isolation');
    const response = await publish(running.url, await tokenFor(publisher), { title, content: 'c', ...body });
    expect(response.status).toBe(201);
    await settle(400);
    return EVERYONE.filter((email) => inbox.get(email)?.some((n) => n.title === title));
  }

  it('USER scope reaches that user only', async () => {
    const user = await demoUser('user@acme.test');
    expect(await recipientsOf('admin@acme.test', { scope: 'USER', userId: user.id })).toEqual(['user@acme.test']);
  });

  it('TENANT scope reaches the ADMIN and SUPER_ADMIN of that tenant only', async () => {
    expect(await recipientsOf('admin@acme.test', { scope: 'TENANT' })).toEqual(['root@platform.test', 'admin@acme.test']);
    expect(await recipientsOf('admin@globex.test', { scope: 'TENANT' })).toEqual(['admin@globex.test']);
  });

  it('GLOBAL scope reaches SUPER_ADMIN only, and only SUPER_ADMIN may send it', async () => {
    expect(await recipientsOf('root@platform.test', { scope: 'GLOBAL' })).toEqual(['root@platform.test']);
    const refused = await publish(running.url, await tokenFor('admin@acme.test'), { title: 't', content: 'c', scope: 'GLOBAL' });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('FORBIDDEN');
  });

  it('SUPER_ADMIN reaches another tenant; an ADMIN cannot, by REST or by WebSocket', async () => {
    const globexUser = await demoUser('user@globex.test');
    expect(await recipientsOf('root@platform.test', { scope: 'USER', userId: globexUser.id })).toEqual(['user@globex.test']);
    expect(await recipientsOf('root@platform.test', { scope: 'TENANT', tenantId: globexUser.tenantId })).toEqual(['admin@globex.test']);

    const before = EVERYONE.map((email) => inbox.get(email)?.length);
    const admin = await tokenFor('admin@acme.test');
    const crossUser = await publish(running.url, admin, { title: 'x', content: 'c', scope: 'USER', userId: globexUser.id });
    expect(crossUser.status).toBe(404);
    const crossTenant = await publish(running.url, admin, { title: 'x', content: 'c', scope: 'TENANT', tenantId: globexUser.tenantId });
    expect(crossTenant.status).toBe(403);

    const adminSocket = sockets.get('admin@acme.test') as ClientSocket;
    const viaSocket = await request(adminSocket, 'notification:create', { title: 'x', content: 'c', scope: 'USER', userId: globexUser.id });
    expect(viaSocket).toEqual({ ok: false, error: { code: 'NOT_FOUND', message: 'Not found' } });
    const tenantViaSocket = await request(adminSocket, 'notification:create', { title: 'x', content: 'c', scope: 'TENANT', tenantId: globexUser.tenantId });
    expect(tenantViaSocket).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    await settle(300);
    expect(EVERYONE.map((email) => inbox.get(email)?.length)).toEqual(before);
  });

  it('a USER cannot create notifications, by REST or by WebSocket', async () => {
    const token = await tokenFor('user@acme.test');
    const self = await demoUser('user@acme.test');
    expect((await publish(running.url, token, { title: 't', content: 'c', scope: 'USER', userId: self.id })).status).toBe(403);
    const ack = await request(sockets.get('user@acme.test') as ClientSocket, 'notification:create', { title: 't', content: 'c', userId: self.id });
    expect(ack).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
  });

  it('REST listing shows each user exactly what the sockets delivered', async () => {
    for (const email of EVERYONE) {
      const socket = sockets.get(email) as ClientSocket;
      const visible = new Set<string>();
      let after = '0';
      for (let page = 0; page < 1000; page += 1) {
        const synced = await request(socket, 'notification:sync', { after, limit: 100 });
        if (!synced.ok) throw new Error('sync failed');
        for (const n of synced.notifications) visible.add(n.id);
        after = synced.cursor ?? after;
        if (!synced.hasMore) break;
      }
      const delivered = inbox.get(email)?.map((n) => n.id) ?? [];
      expect(delivered.filter((id) => !visible.has(id))).toEqual([]);
    }
  });

  it('clients cannot join rooms: there is no join event and unknown events are ignored', async () => {
    const user = sockets.get('user@globex.test') as ClientSocket;
    (user.emit as (event: string, ...args: unknown[]) => void)('join', 'global');
    (user.emit as (event: string, ...args: unknown[]) => void)('subscribe', { room: 'tenant:anything' });
    expect(await recipientsOf('root@platform.test', { scope: 'GLOBAL' })).toEqual(['root@platform.test']);
    expect(user.connected).toBe(true);
  });
});
