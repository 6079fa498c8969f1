import type { NotificationBatchResponse, NotificationView } from '@notify-gateway/contracts';
import { http, uniqueTitle } from '../support/http';
import { connect, request, type ClientSocket } from '../support/sockets';
import { startApp, type RunningApp } from '../support/test-app';
import { demoUser, tokenFor } from '../support/users';

type Body = NotificationView & { code?: string };

/**
 * The optional fields of a create accept null (IsOptional) and read it as "not given": scope
 * USER, priority medium, no data. `tenantId: null` is the caller's own tenant, as an omitted
 * tenantId is, on every door: not a 500 for a SUPER_ADMIN, nor a 403 for an ADMIN.
 */
describe('optional create fields sent as null', () => {
  let app: RunningApp;
  let root: string;
  let admin: string;
  let rootTenant: string;
  let acme: string;
  let socket: ClientSocket;

  beforeAll(async () => {
    app = await startApp();
    root = await tokenFor('root@platform.test');
    admin = await tokenFor('admin@acme.test');
    rootTenant = (await demoUser('root@platform.test')).tenantId;
    acme = (await demoUser('admin@acme.test')).tenantId;
    socket = await connect(app.url, { token: root });
  });
  afterAll(async () => {
    socket?.close();
    await app.close();
  });

  it('POST /notifications with scope TENANT and tenantId null reaches the caller\'s tenant, for a SUPER_ADMIN and an ADMIN', async () => {
    const byRoot = await http<Body>(`${app.url}/notifications`, { token: root, body: { title: uniqueTitle('null tenant'), content: 'c', scope: 'TENANT', tenantId: null } });
    expect([byRoot.status, byRoot.body.stream]).toEqual([201, `tenant:${rootTenant}`]);
    const byAdmin = await http<Body>(`${app.url}/notifications`, { token: admin, body: { title: uniqueTitle('null tenant'), content: 'c', scope: 'TENANT', tenantId: null } });
    expect([byAdmin.status, byAdmin.body.stream]).toEqual([201, `tenant:${acme}`]);
  });

  it('the same in a batch item and on notification:create', async () => {
    const batch = await http<NotificationBatchResponse>(`${app.url}/notifications/batch`, { token: root, body: { items: [{ title: uniqueTitle('null tenant'), content: 'c', scope: 'TENANT', tenantId: null }] } });
    expect([batch.status, batch.body.items?.[0]?.stream]).toEqual([201, `tenant:${rootTenant}`]);
    const ack = await request(socket, 'notification:create', { title: uniqueTitle('null tenant'), content: 'c', scope: 'TENANT', tenantId: null });
    expect(ack).toMatchObject({ ok: true, notification: { stream: `tenant:${rootTenant}` } });
  });

  it('a retry with tenantId null is the same request as one without it', async () => {
    const key = `null-tenant-${Date.now()}`;
    const title = uniqueTitle('null tenant retry');
    const first = await http<Body>(`${app.url}/notifications`, { token: admin, body: { title, content: 'c', scope: 'TENANT' }, headers: { 'idempotency-key': key } });
    const again = await http<Body>(`${app.url}/notifications`, { token: admin, body: { title, content: 'c', scope: 'TENANT', tenantId: null, priority: null, data: null }, headers: { 'idempotency-key': key } });
    expect([first.status, again.status, again.body.id]).toEqual([201, 201, first.body.id]);
  });
});
