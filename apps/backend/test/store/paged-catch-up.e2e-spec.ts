import { randomUUID } from 'node:crypto';
import { sign } from 'jsonwebtoken';
import { createNotificationClient, type NotificationClient, type NotificationClientEventMap, type StateChange } from '@notify-gateway/client';
import type { NotificationView } from '@notify-gateway/contracts';
import { NotificationService } from '../../src/notifications/notification.service';
import { settle, until } from '../support/sockets';
import { startApp, TEST_JWT_SECRET, type RunningApp } from '../support/test-app';
import { sql } from '../support/users';

const CATCH_UP_MAX = 12;
const PAGE = 4;

type ResetInfo = NotificationClientEventMap['reset'];

/** An ADMIN of a tenant of its own: it reads its user stream and a tenant stream nobody else writes. */
async function freshAdmin(): Promise<{ id: string; tenantId: string; token: () => string }> {
  const [tenant] = await sql<{ id: string }>(`INSERT INTO tenants (id, slug, name) VALUES (gen_random_uuid(), $1, 'Paged') RETURNING id`, [`paged-${randomUUID()}`]);
  const [user] = await sql<{ id: string }>(
    `INSERT INTO users (id, email, password_hash, role, is_active, tenant_id, updated_at)
     VALUES (gen_random_uuid(), $1, '!', 'ADMIN', true, $2, now()) RETURNING id`,
    [`paged-${randomUUID()}@paged.test`, tenant.id],
  );
  return { id: user.id, tenantId: tenant.id, token: () => sign({ sub: user.id }, TEST_JWT_SECRET, { algorithm: 'HS256', expiresIn: 900 }) };
}

/**
 * A reader behind by several sync pages, within CATCH_UP_MAX, in two streams at once: the
 * catch-up pages through all of it (one statement per page on the server), and the bound is
 * judged per stream — a stream past it is reset alone, the other one is still replayed whole.
 */
describe('paged catch-up: several pages, two streams, the bound per stream', () => {
  let running: RunningApp;
  let service: NotificationService;
  const clients: NotificationClient[] = [];

  beforeAll(async () => {
    running = await startApp({ CATCH_UP_MAX: String(CATCH_UP_MAX) });
    service = running.app.get(NotificationService);
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });
  afterAll(() => running.close());

  /** The admin's position after one notification in each stream, and what is published after it. */
  async function behind(userCount: number, tenantCount: number) {
    const admin = await freshAdmin();
    const firstUser = await service.sendToUser(admin.id, { title: 'u0', content: 'c' });
    const firstTenant = await service.sendToTenant(admin.tenantId, { title: 't0', content: 'c' });
    const position = `u.${firstUser.epoch}.${firstUser.offset}_t.${firstTenant.epoch}.${firstTenant.offset}`;
    const missed: NotificationView[] = [];
    // Interleaved, so every page takes from both streams.
    for (let i = 1; i <= Math.max(userCount, tenantCount); i += 1) {
      if (i <= userCount) missed.push(await service.sendToUser(admin.id, { title: `u${i}`, content: 'c' }));
      if (i <= tenantCount) missed.push(await service.sendToTenant(admin.tenantId, { title: `t${i}`, content: 'c' }));
    }
    return { admin, position, missed, userEpoch: firstUser.epoch, tenantEpoch: firstTenant.epoch };
  }

  function observe(token: () => string, position: string): { client: NotificationClient; seen: NotificationView[]; states: StateChange[]; resets: ResetInfo[] } {
    const seen: NotificationView[] = [];
    const states: StateChange[] = [];
    const resets: ResetInfo[] = [];
    const client = createNotificationClient({
      url: running.url,
      transports: ['websocket'],
      position,
      syncPageSize: PAGE,
      reconnectDelayMs: 100,
      getToken: () => Promise.resolve(token()),
      onNotification: (notification) => seen.push(notification),
    });
    client.on('state', (change) => states.push(change));
    client.on('reset', (info) => resets.push(info));
    clients.push(client);
    return { client, seen, states, resets };
  }

  const titlesOf = (list: NotificationView[], prefix: string): string[] => list.filter((n) => n.title.startsWith(prefix)).map((n) => n.title);

  it('behind by four pages in two streams, within the bound: all of it, in per-stream order, once, no reset', async () => {
    const { admin, position, missed, userEpoch, tenantEpoch } = await behind(CATCH_UP_MAX, CATCH_UP_MAX - 1);
    expect(missed.length).toBeGreaterThan(4 * PAGE);
    const { client, seen, states, resets } = observe(admin.token, position);
    await until(() => client.state === 'live', 'live');
    await settle(200);
    expect(states.some((change) => change.state === 'reset')).toBe(false);
    expect(resets).toEqual([]);
    expect(seen.map((n) => n.id).sort()).toEqual(missed.map((n) => n.id).sort());
    expect(titlesOf(seen, 'u')).toEqual(titlesOf(missed, 'u'));
    expect(titlesOf(seen, 't')).toEqual(titlesOf(missed, 't'));
    expect(client.lastPosition).toBe(`u.${userEpoch}.${CATCH_UP_MAX + 1}_t.${tenantEpoch}.${CATCH_UP_MAX}`);
  });

  it('one stream past the bound: that stream alone is reset, the other is replayed whole', async () => {
    const { admin, position, missed, tenantEpoch } = await behind(PAGE + 2, CATCH_UP_MAX + 1);
    const { client, seen, resets } = observe(admin.token, position);
    await until(() => client.state === 'live', 'live');
    await settle(200);
    expect(resets).toEqual([{ streams: [`tenant:${admin.tenantId}`], reason: 'TOO_FAR_BEHIND' }]);
    // The user stream, more than a page behind: every one of it, in order.
    expect(titlesOf(seen, 'u')).toEqual(titlesOf(missed, 'u'));
    // The tenant stream: what the latest page held of it, none of what lies further back.
    const tenantSeen = titlesOf(seen, 't');
    expect(tenantSeen.length).toBeGreaterThan(0);
    expect(tenantSeen.length).toBeLessThan(CATCH_UP_MAX + 1);
    expect(tenantSeen).toEqual(titlesOf(missed, 't').slice(-tenantSeen.length));
    const ids = seen.map((n) => n.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(client.lastPosition).toMatch(new RegExp(`_t\\.${tenantEpoch}\\.${CATCH_UP_MAX + 2}$`));
  });
});
