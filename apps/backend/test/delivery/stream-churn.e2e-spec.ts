import { randomUUID } from 'node:crypto';
import { sign } from 'jsonwebtoken';
import { createNotificationClient, type NotificationClient } from '@notify-gateway/client';
import type { NotificationView } from '@notify-gateway/contracts';
import { NotificationService } from '../../src/notifications/notification.service';
import { uniquePrefix } from '../support/redis-server';
import { settle } from '../support/sockets';
import { startApp, TEST_JWT_SECRET, type RunningApp } from '../support/test-app';
import { sql } from '../support/users';

const SHARED_REDIS = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const USERS = 50;
const ADMINS = 2;
const PUBLISHERS_PER_INSTANCE = 8;
const PER_PUBLISHER = 30;

interface Reader {
  id: string;
  token: () => string;
  /** Everything handed to the application, across the reader's successive clients. */
  handed: NotificationView[];
  client?: NotificationClient;
  restarts: number;
}

/**
 * Two instances, eight publishers on each, into 50 users' streams plus their tenant's stream,
 * while the readers' clients (packages/client) are closed and reopened from their saved
 * position all along. Every reader must end with exactly its notifications, each once, in
 * per-stream order; every stream's offsets must be dense.
 */
describe('two instances × eight publishers, 50 user streams and tenant broadcasts, clients churning', () => {
  let a: RunningApp;
  let b: RunningApp;
  let tenantId: string;
  const readers: Reader[] = [];

  beforeAll(async () => {
    const env = { REDIS_URL: SHARED_REDIS, REDIS_KEY_PREFIX: uniquePrefix('churn'), MAX_CONNECTIONS_PER_USER: '5' };
    a = await startApp(env);
    b = await startApp(env);
    tenantId = randomUUID();
    await sql('INSERT INTO tenants (id, slug, name) VALUES ($1, $2, $3)', [tenantId, `churn-${tenantId}`, 'Churn']);
    for (let i = 0; i < USERS + ADMINS; i += 1) {
      const id = randomUUID();
      await sql(`INSERT INTO users (id, email, password_hash, role, is_active, tenant_id, updated_at) VALUES ($1, $2, '!', $3, true, $4, now())`, [
        id,
        `churn-${id}@churn.test`,
        i < USERS ? 'USER' : 'ADMIN',
        tenantId,
      ]);
      readers.push({ id, token: () => sign({ sub: id }, TEST_JWT_SECRET, { algorithm: 'HS256', expiresIn: 900 }), handed: [], restarts: 0 });
    }
  });
  afterAll(async () => {
    for (const reader of readers) reader.client?.close();
    await a.close();
    await b.close();
  });

  /** A fresh client for the reader, on instance A or B, resuming from the last client's position. */
  function restart(reader: Reader, index: number): void {
    const position = reader.client?.lastPosition;
    reader.client?.close();
    reader.restarts += 1;
    reader.client = createNotificationClient({
      url: (index + reader.restarts) % 2 === 0 ? a.url : b.url,
      transports: ['websocket'],
      position,
      reconnectDelayMs: 50,
      reconnectDelayMaxMs: 200,
      getToken: () => Promise.resolve(reader.token()),
      onNotification: (notification) => reader.handed.push(notification),
    });
  }

  it('0 lost, 0 handed twice, per-stream order, dense offsets', async () => {
    // Start everyone at the current head (nothing stored for these streams yet).
    readers.forEach((reader, index) => restart(reader, index));
    const deadline = Date.now() + 15_000;
    while (readers.some((reader) => reader.client?.state !== 'live') && Date.now() < deadline) await settle(25);

    const published: NotificationView[] = [];
    let publishing = true;
    const churn = (async () => {
      while (publishing) {
        await settle(150 + Math.floor(Math.random() * 300));
        for (let k = 0; k < 6; k += 1) {
          const index = Math.floor(Math.random() * readers.length);
          restart(readers[index] as Reader, index);
        }
      }
    })();
    const publishers = [a, b].flatMap((app) =>
      Array.from({ length: PUBLISHERS_PER_INSTANCE }, async (_, p) => {
        const service = app.app.get(NotificationService);
        for (let i = 0; i < PER_PUBLISHER; i += 1) {
          const input = { title: `churn ${p}-${i}`, content: 'c' };
          if (i % 10 === 9) published.push(await service.sendToTenant(tenantId, input));
          else published.push(await service.sendToUser((readers[Math.floor(Math.random() * USERS)] as Reader).id, input));
        }
      }),
    );
    await Promise.all(publishers);
    publishing = false;
    await churn;

    const tenantStream = `tenant:${tenantId}`;
    const expectedFor = (reader: Reader, index: number): string[] =>
      published.filter((n) => n.stream === `user:${reader.id}` || (index >= USERS && n.stream === tenantStream)).map((n) => n.id);
    const settled = (): boolean => readers.every((reader, index) => new Set(reader.handed.map((n) => n.id)).size >= expectedFor(reader, index).length);
    const until = Date.now() + 20_000;
    while (!settled() && Date.now() < until) await settle(50);
    await settle(300);

    let lost = 0;
    let twice = 0;
    for (const [index, reader] of readers.entries()) {
      const ids = reader.handed.map((n) => n.id);
      const expected = new Set(expectedFor(reader, index));
      lost += [...expected].filter((id) => !ids.includes(id)).length;
      twice += ids.length - new Set(ids).size;
      expect(ids.filter((id) => !expected.has(id))).toEqual([]); // nothing of anyone else's
      for (const stream of new Set(reader.handed.map((n) => n.stream))) {
        const offsets = reader.handed.filter((n) => n.stream === stream).map((n) => Number(n.offset));
        expect(offsets).toEqual([...offsets].sort((x, y) => x - y));
      }
    }
    const restarts = readers.reduce((sum, reader) => sum + reader.restarts, 0);
    process.stdout.write(`stream churn: published ${published.length}, client restarts ${restarts}, lost ${lost}, handed twice ${twice}\n`);
    expect(lost).toBe(0);
    expect(twice).toBe(0);

    // Dense: each stream holds offsets 1..n, one row each.
    const streams = await sql<{ stream: string; n: number; low: string; high: string; last: string }>(
      `SELECT n.stream, count(*)::int AS n, min(n.stream_offset)::text AS low, max(n.stream_offset)::text AS high, s.last_offset::text AS last
         FROM notifications n JOIN notification_streams s USING (stream)
        WHERE n.tenant_id = $1 GROUP BY n.stream, s.last_offset`,
      [tenantId],
    );
    expect(streams.reduce((sum, row) => sum + row.n, 0)).toBe(published.length);
    for (const row of streams) expect({ stream: row.stream, low: row.low, high: row.high, last: row.last }).toEqual({ stream: row.stream, low: '1', high: String(row.n), last: String(row.n) });
  }, 60_000);
});
