import { randomUUID } from 'node:crypto';
import { NotificationService, type NotificationSendItem } from '../../src/notifications/notification.service';
import { startApp, type RunningApp } from '../support/test-app';
import { demoUser, sql } from '../support/users';

/**
 * The group statement gets its columns as text[] literals written by the writer itself
 * (notifications/pg-array-literal.ts), and all-NULL columns as NULL. Whatever a field holds
 * must come back from the table exactly as it was sent, in every item of a group.
 */
describe('group statement values', () => {
  let app: RunningApp;
  let service: NotificationService;
  let userId: string;
  let tenantId: string;

  beforeAll(async () => {
    app = await startApp();
    service = app.app.get(NotificationService);
    const user = await demoUser('user@acme.test');
    userId = user.id;
    tenantId = user.tenantId;
  });
  afterAll(async () => {
    await app.close();
  });

  const awkward = ['"', '\\', '\\"', '"\\', 'a"b\\c', '{}', '{a,b}', 'x,y', 'NULL', 'null', ' padded ', "it's", '😀 ünïcödé', '\t tab', 'line\nbreak', '[]', '\\N', 'ends with \\'];

  it('stores every awkward title, content, data and key as sent, next to plain items and items without keys', async () => {
    const run = randomUUID();
    const items: NotificationSendItem[] = awkward.map((text, index) => ({
      scope: 'USER',
      userId,
      title: `${run} ${text.replace(/\n/g, ' ').replace(/\t/g, ' ')}`,
      content: `${text} #${index}`,
      data: { text, nested: { quote: '"', slash: '\\', list: [text, null, 1] } },
      ...(index % 3 === 0 ? { idempotencyKey: `k.${run}:${index}-"x"`.replace(/"/g, '_') } : {}),
      ...(index % 2 === 0 ? { createdById: userId } : {}),
    }));
    items.push({ scope: 'TENANT', tenantId, title: `${run} plain`, content: 'plain', priority: 'high' });
    const views = await service.sendMany(items);
    expect(views).toHaveLength(items.length);

    const rows = await sql<{ id: string; title: string; content: string; data: unknown; created_by_id: string | null; priority: string; scope: string; stream: string }>(
      'SELECT id, title, content, data, created_by_id, priority::text, scope::text, stream FROM notifications WHERE title LIKE $1',
      [`${run} %`],
    );
    const byId = new Map(rows.map((row) => [row.id, row]));
    expect(rows).toHaveLength(items.length);
    for (const [index, item] of items.entries()) {
      const row = byId.get(views[index]?.id ?? '');
      expect(row).toBeDefined();
      expect(row?.title).toBe(item.title);
      expect(row?.content).toBe(item.content);
      expect(row?.data).toEqual(item.data ?? null);
      expect(row?.created_by_id).toBe(item.createdById ?? null);
      expect(row?.priority).toBe(item.priority ?? 'medium');
      expect(row?.stream).toBe(item.scope === 'USER' ? `user:${userId}` : `tenant:${tenantId}`);
      expect(views[index]).toMatchObject({ title: item.title, content: item.content, data: item.data ?? null });
    }
    const keys = await sql<{ key: string; notification_id: string }>('SELECT key, notification_id FROM notification_idempotency_keys WHERE key LIKE $1', [`k.${run}:%`]);
    expect(keys.map((k) => k.key).sort()).toEqual(items.flatMap((item) => (item.idempotencyKey ? [item.idempotencyKey] : [])).sort());
  });

  it('a retry of the keyed items returns the originals and stores nothing new', async () => {
    const run = randomUUID();
    const items: NotificationSendItem[] = [0, 1, 2].map((i) => ({ scope: 'USER', userId, title: `${run} r${i}`, content: 'NULL', idempotencyKey: `retry.${run}.${i}` }));
    const first = await service.sendMany(items);
    const again = await service.sendMany(items);
    expect(again.map((view) => [view.id, view.offset])).toEqual(first.map((view) => [view.id, view.offset]));
    expect((await sql<{ n: number }>('SELECT count(*)::int AS n FROM notifications WHERE title LIKE $1', [`${run} %`]))[0]?.n).toBe(3);
  });

  it('a NUL character is refused before anything is stored', async () => {
    const run = randomUUID();
    await expect(service.sendMany([{ scope: 'USER', userId, title: `${run} ok`, content: 'fine' }, { scope: 'USER', userId, title: `${run} bad`, content: 'a\u0000b' }])).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((await sql<{ n: number }>('SELECT count(*)::int AS n FROM notifications WHERE title LIKE $1', [`${run} %`]))[0]?.n).toBe(0);
  });
});
