import { randomUUID } from 'node:crypto';
import type { NotificationView } from '@notify-gateway/contracts';
import { NotificationPruner } from '../../src/notifications/retention/notification-pruner';
import { http, uniqueTitle } from '../support/http';
import { freshUser } from '../support/sse';
import { startApp, type RunningApp } from '../support/test-app';
import { sql, tokenFor } from '../support/users';

type Body = NotificationView & { code?: string; message?: string; errors?: { field: string; messages: string[] }[] };

/**
 * A retry whose original was pruned (retention or NOTIFICATION_MAX_PER_USER) within the key's
 * 24-hour window: it must neither store a second copy nor claim a conflict that is not one.
 */
describe('idempotent retry after the original was pruned', () => {
  let app: RunningApp;
  let admin: string;

  beforeAll(async () => {
    app = await startApp({ NOTIFICATION_RETENTION_DAYS: '90' });
    admin = await tokenFor('admin@acme.test');
  });
  afterAll(async () => {
    await app.close();
  });

  const post = (body: unknown, key: string) => http<Body>(`${app.url}/notifications`, { token: admin, body, headers: { 'idempotency-key': key } });
  const batch = (items: unknown[]) => http<Body & { items: Body[] }>(`${app.url}/notifications/batch`, { token: admin, body: { items } });
  const rowsTitled = async (title: string): Promise<number> => (await sql<{ n: number }>('SELECT count(*)::int AS n FROM notifications WHERE title = $1', [title]))[0]?.n ?? -1;
  /** Ages one notification past the horizon and lets the pruner take it; its key stays claimed. */
  const prune = async (id: string): Promise<void> => {
    await sql(`UPDATE notifications SET created_at = now() - interval '91 days' WHERE id = $1`, [id]);
    await app.app.get(NotificationPruner).runOnce();
    expect(await sql('SELECT 1 FROM notifications WHERE id = $1', [id])).toHaveLength(0);
  };

  it('a same-body retry answers 410 IDEMPOTENCY_ORIGINAL_PRUNED and stores nothing', async () => {
    const user = await freshUser('user@acme.test');
    const key = `pruned-${randomUUID()}`;
    const body = { title: uniqueTitle('pruned'), content: 'once', userId: user.id };
    const first = await post(body, key);
    expect(first.status).toBe(201);
    await prune(first.body.id);

    const again = await post(body, key);
    expect({ status: again.status, code: again.body.code }).toEqual({ status: 410, code: 'IDEMPOTENCY_ORIGINAL_PRUNED' });
    expect(await rowsTitled(body.title)).toBe(0);
  });

  it('another body with that key is still a conflict', async () => {
    const user = await freshUser('user@acme.test');
    const key = `pruned-other-${randomUUID()}`;
    const first = await post({ title: uniqueTitle('pruned'), content: 'a', userId: user.id }, key);
    await prune(first.body.id);
    const other = await post({ title: uniqueTitle('other'), content: 'b', userId: user.id }, key);
    expect({ status: other.status, code: other.body.code }).toEqual({ status: 409, code: 'IDEMPOTENCY_CONFLICT' });
  });

  it('in a batch, the pruned item is named and nothing is stored twice', async () => {
    const user = await freshUser('user@acme.test');
    const key = `pruned-batch-${randomUUID()}`;
    const item = { title: uniqueTitle('pruned'), content: 'once', userId: user.id, idempotencyKey: key };
    const first = await batch([item]);
    expect(first.status).toBe(201);
    await prune((first.body.items[0] as Body).id);
    const again = await batch([item]);
    expect(again.status).toBe(410);
    expect(again.body.code).toBe('IDEMPOTENCY_ORIGINAL_PRUNED');
    expect(again.body.errors).toEqual([{ field: 'items.0.idempotencyKey', messages: [expect.stringMatching(/pruned/)] }]);
    expect(await rowsTitled(item.title)).toBe(0);
  });
});
