import { randomUUID } from 'node:crypto';
import type { NotificationBatchResponse, NotificationView } from '@notify-gateway/contracts';
import { NotificationService } from '../../src/notifications/notification.service';
import { http, uniqueTitle } from '../support/http';
import { startApp, type RunningApp } from '../support/test-app';
import { demoUser, sql, tokenFor } from '../support/users';
import { freshTenant } from '../store/fresh-tenant';

type Body = NotificationView & { code?: string; errors?: { field: string; messages: string[] }[] };

/**
 * The TENANT audience check (notification.repository.ts `existingTenants`): one lookup per
 * event-loop turn for every publish in it, each publish answered for its own tenants only. An
 * actor's own tenant is not looked up: the insert's foreign key answers for it.
 */
describe('publishing to a tenant: the tenant must exist', () => {
  let app: RunningApp;
  let root: string;
  let acme: string;
  let globex: string;

  beforeAll(async () => {
    app = await startApp();
    root = await tokenFor('root@platform.test');
    acme = (await demoUser('admin@acme.test')).tenantId;
    globex = (await demoUser('admin@globex.test')).tenantId;
  });
  afterAll(async () => {
    await app.close();
  });

  const post = (body: unknown) => http<Body>(`${app.url}/notifications`, { token: root, body });
  const rowsTitled = async (prefix: string): Promise<number> => (await sql<{ n: number }>('SELECT count(*)::int AS n FROM notifications WHERE title LIKE $1', [`${prefix}%`]))[0]?.n ?? -1;
  const streamRows = async (stream: string): Promise<number> => (await sql<{ n: number }>('SELECT count(*)::int AS n FROM notification_streams WHERE stream = $1', [stream]))[0]?.n ?? -1;

  it('publishes in one turn to several tenants, one of them missing: each answer is its own', async () => {
    const tag = uniqueTitle('tenants');
    const nowhere = randomUUID();
    const answers = await Promise.all([
      post({ scope: 'TENANT', tenantId: acme, title: `${tag} acme`, content: 'a' }),
      post({ scope: 'TENANT', tenantId: nowhere, title: `${tag} nowhere`, content: 'b' }),
      post({ scope: 'TENANT', tenantId: globex, title: `${tag} globex`, content: 'c' }),
      post({ scope: 'TENANT', tenantId: acme, title: `${tag} acme again`, content: 'd' }),
    ]);
    expect(answers.map((answer) => answer.status)).toEqual([201, 404, 201, 201]);
    expect([answers[0]?.body.stream, answers[2]?.body.stream, answers[3]?.body.stream]).toEqual([`tenant:${acme}`, `tenant:${globex}`, `tenant:${acme}`]);
    expect(answers[1]?.body).toMatchObject({ code: 'NOT_FOUND' });
    expect(await rowsTitled(`${tag} nowhere`)).toBe(0);
    expect(await streamRows(`tenant:${nowhere}`)).toBe(0);
    expect(await rowsTitled(tag)).toBe(3);
  });

  it('a batch naming a missing tenant is refused with that item only, and stores nothing', async () => {
    const tag = uniqueTitle('tenant batch');
    const items = [acme, randomUUID(), globex, acme].map((tenantId, i) => ({ scope: 'TENANT', tenantId, title: `${tag} ${i}`, content: 'c' }));
    const refused = await http<Body>(`${app.url}/notifications/batch`, { token: root, body: { items } });
    expect(refused.status).toBe(404);
    expect(refused.body.errors).toEqual([{ field: 'items.1.tenantId', messages: ['no such tenant'] }]);
    expect(await rowsTitled(tag)).toBe(0);

    const accepted = await http<NotificationBatchResponse>(`${app.url}/notifications/batch`, { token: root, body: { items: items.filter((_, i) => i !== 1) } });
    expect(accepted.status).toBe(201);
    expect(accepted.body.items.map((item) => item.stream)).toEqual([`tenant:${acme}`, `tenant:${globex}`, `tenant:${acme}`]);
  });

  it("an ADMIN's broadcast to its own tenant, deleted under the gateway: NOT_FOUND, nothing stored, no offset spent", async () => {
    const tag = uniqueTitle('deleted tenant');
    const { tenantId, admin } = await freshTenant();
    const stream = `tenant:${tenantId}`;
    const broadcast = (title: string) => http<Body>(`${app.url}/notifications`, { token: admin.token, body: { scope: 'TENANT', title, content: 'x' } });
    const first = await broadcast(`${tag} before`);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ stream, offset: '1' });

    // Straight in SQL, so no instance hears of it: the ADMIN's state (cached by the publish
    // above) still names the tenant, and nothing looks the tenant up before the insert.
    await sql('DELETE FROM tenants WHERE id = $1', [tenantId]);
    const after = await Promise.all([broadcast(`${tag} after`), post({ scope: 'TENANT', tenantId: acme, title: `${tag} acme`, content: 'y' })]);
    expect(after.map((answer) => answer.status)).toEqual([404, 201]);
    expect(after[0]?.body).toEqual({ statusCode: 404, code: 'NOT_FOUND', message: expect.any(String) });
    expect(await rowsTitled(`${tag} after`)).toBe(0);
    expect(await rowsTitled(`${tag} acme`)).toBe(1);
    // The refused statement rolled back whole: the stream's offset was not spent.
    expect(await sql('SELECT last_offset::text AS "lastOffset" FROM notification_streams WHERE stream = $1', [stream])).toEqual([{ lastOffset: '1' }]);
  });

  it('host code naming a tenant that is no UUID gets NOT_FOUND, not a database error', async () => {
    const service = app.app.get(NotificationService);
    const tag = uniqueTitle('not a uuid');
    await expect(service.sendToTenant('acme', { title: tag, content: 'x' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(service.sendMany([{ scope: 'TENANT', tenantId: "'; DROP TABLE tenants; --", title: tag, content: 'x' }])).rejects.toMatchObject({ code: 'NOT_FOUND', errors: [{ field: 'items.0.tenantId', messages: ['no such tenant'] }] });
    expect(await rowsTitled(tag)).toBe(0);
    // The lookup still answers after the hostile ids.
    expect((await service.sendToTenant(acme, { title: `${tag} ok`, content: 'x' })).stream).toBe(`tenant:${acme}`);
  });
});
