import { randomUUID } from 'node:crypto';
import { NOTIFICATION_LIMITS, type NotificationBatchResponse, type NotificationView } from '@notify-gateway/contracts';
import { NotificationService } from '../../src/notifications/notification.service';
import { http, uniqueTitle } from '../support/http';
import { uniquePrefix } from '../support/redis-server';
import { startApp, type RunningApp } from '../support/test-app';
import { demoUser, sql, tokenFor } from '../support/users';

const SHARED_REDIS = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

type Body = NotificationView & { code?: string; errors?: { field: string; messages: string[] }[] };

describe('idempotent and bulk publishing, across two instances', () => {
  let a: RunningApp;
  let b: RunningApp;
  let admin: string;
  let userId: string;

  beforeAll(async () => {
    const env = { REDIS_URL: SHARED_REDIS, REDIS_KEY_PREFIX: uniquePrefix('idem') };
    a = await startApp(env);
    b = await startApp(env);
    admin = await tokenFor('admin@acme.test');
    userId = (await demoUser('user@acme.test')).id;
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  const post = (url: string, body: unknown, key?: string, token = admin) =>
    http<Body>(`${url}/notifications`, { token, body, headers: key === undefined ? {} : { 'idempotency-key': key } });
  const rowsTitled = async (title: string): Promise<number> => (await sql<{ n: number }>('SELECT count(*)::int AS n FROM notifications WHERE title = $1', [title]))[0]?.n ?? -1;
  const head = async (stream: string): Promise<string> => (await sql<{ last: string }>('SELECT last_offset::text AS last FROM notification_streams WHERE stream = $1', [stream]))[0]?.last ?? '0';

  it('a sequential retry with the same key returns the original (same id, same offset) and stores nothing', async () => {
    const key = `retry-${randomUUID()}`;
    const body = { title: uniqueTitle('idem'), content: 'once', userId };
    const first = await post(a.url, body, key);
    expect(first.status).toBe(201);
    const again = await post(b.url, body, key);
    expect(again.status).toBe(201);
    expect({ id: again.body.id, offset: again.body.offset, stream: again.body.stream }).toEqual({ id: first.body.id, offset: first.body.offset, stream: first.body.stream });
    expect(await rowsTitled(body.title)).toBe(1);
    // The retry took no offset: the next notification follows on.
    const next = await post(a.url, { title: uniqueTitle('after'), content: 'x', userId });
    expect(BigInt(next.body.offset)).toBe(BigInt(first.body.offset) + 1n);
  });

  it('20 concurrent requests with one key, spread over both instances, store one row and all get it', async () => {
    const key = `burst-${randomUUID()}`;
    const body = { title: uniqueTitle('burst'), content: 'once', userId };
    const before = await head(`user:${userId}`);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => post(i % 2 === 0 ? a.url : b.url, body, key)));
    expect(answers.map((answer) => answer.status)).toEqual(Array.from({ length: 20 }, () => 201));
    expect(new Set(answers.map((answer) => answer.body.id)).size).toBe(1);
    expect(new Set(answers.map((answer) => answer.body.offset)).size).toBe(1);
    expect(await rowsTitled(body.title)).toBe(1);
    expect(BigInt(await head(`user:${userId}`))).toBe(BigInt(before) + 1n);
  });

  it('the same key with another body is refused with 409 IDEMPOTENCY_CONFLICT and stores nothing', async () => {
    const key = `reuse-${randomUUID()}`;
    const first = await post(a.url, { title: uniqueTitle('first'), content: 'a', userId }, key);
    expect(first.status).toBe(201);
    const otherTitle = uniqueTitle('other');
    const other = await post(b.url, { title: otherTitle, content: 'a', userId }, key);
    expect(other.status).toBe(409);
    expect(other.body).toEqual({ statusCode: 409, code: 'IDEMPOTENCY_CONFLICT', message: 'Idempotency key already used with another request' });
    expect(await rowsTitled(otherTitle)).toBe(0);
    // Another audience is another body too.
    expect((await post(a.url, { title: 'x', content: 'a', scope: 'TENANT' }, key)).status).toBe(409);
  });

  it('keys belong to their publisher: another admin with the same key stores its own notification', async () => {
    const key = `mine-${randomUUID()}`;
    const body = { title: uniqueTitle('mine'), content: 'a', userId };
    const byAdmin = await post(a.url, body, key);
    const byRoot = await post(a.url, body, key, await tokenFor('root@platform.test'));
    expect(byRoot.status).toBe(201);
    expect(byRoot.body.id).not.toBe(byAdmin.body.id);
    expect(await rowsTitled(body.title)).toBe(2);
  });

  it('a batch of 500 stores every item in order with consecutive offsets; a retry of its keys stores nothing', async () => {
    const tag = uniqueTitle('batch');
    const items = Array.from({ length: NOTIFICATION_LIMITS.batchMax }, (_, i) => ({ title: `${tag} ${i}`, content: 'c', userId, idempotencyKey: `${tag.replace(/[^A-Za-z0-9]/g, '')}-${i}` }));
    const before = BigInt(await head(`user:${userId}`));
    const response = await http<NotificationBatchResponse>(`${a.url}/notifications/batch`, { token: admin, body: { items } });
    expect(response.status).toBe(201);
    expect(response.body.items.map((n) => n.title)).toEqual(items.map((item) => item.title));
    expect(response.body.items.map((n) => BigInt(n.offset))).toEqual(items.map((_, i) => before + BigInt(i) + 1n));
    const retry = await http<NotificationBatchResponse>(`${b.url}/notifications/batch`, { token: admin, body: { items } });
    expect(retry.status).toBe(201);
    expect(retry.body.items.map((n) => n.id)).toEqual(response.body.items.map((n) => n.id));
    expect((await sql<{ n: number }>('SELECT count(*)::int AS n FROM notifications WHERE title LIKE $1', [`${tag} %`]))[0]?.n).toBe(500);
    expect(BigInt(await head(`user:${userId}`))).toBe(before + 500n);
  });

  it('one invalid item refuses the whole batch with its index, and nothing is stored', async () => {
    const tag = uniqueTitle('refused');
    const items: Record<string, unknown>[] = Array.from({ length: 40 }, (_, i) => ({ title: `${tag} ${i}`, content: 'c', userId }));
    const stored = async (): Promise<number> => (await sql<{ n: number }>('SELECT count(*)::int AS n FROM notifications WHERE title LIKE $1', [`${tag} %`]))[0]?.n ?? -1;
    const before = await head(`user:${userId}`);

    const invalid = await http<Body>(`${a.url}/notifications/batch`, { token: admin, body: { items: items.map((item, i) => (i === 17 ? { ...item, title: '' } : item)) } });
    expect(invalid.status).toBe(400);
    expect(invalid.body.code).toBe('VALIDATION_FAILED');
    expect(invalid.body.errors?.map((error) => error.field)).toEqual(['items.17.title']);

    const unknownUser = await http<Body>(`${a.url}/notifications/batch`, { token: admin, body: { items: items.map((item, i) => (i === 23 ? { ...item, userId: randomUUID() } : item)) } });
    expect(unknownUser.status).toBe(404);
    expect(unknownUser.body.errors?.map((error) => error.field)).toEqual(['items.23.userId']);

    const forbidden = await http<Body>(`${a.url}/notifications/batch`, { token: admin, body: { items: items.map((item, i) => (i === 5 ? { ...item, scope: 'GLOBAL' } : item)) } });
    expect(forbidden.status).toBe(403);

    const tooMany = await http<Body>(`${a.url}/notifications/batch`, { token: admin, body: { items: Array.from({ length: 501 }, () => ({ title: 't', content: 'c', userId })) } });
    expect(tooMany.status).toBe(400);

    const asUser = await http<Body>(`${a.url}/notifications/batch`, { token: await tokenFor('user@acme.test'), body: { items } });
    expect(asUser.status).toBe(403);

    expect(await stored()).toBe(0);
    expect(await head(`user:${userId}`)).toBe(before);
  });

  it('an Idempotency-Key header on a batch is refused, not ignored: its retry would store every item again', async () => {
    const title = uniqueTitle('batch header');
    const batch = (url: string) => http<Body>(`${url}/notifications/batch`, { token: admin, body: { items: [{ title, content: 'c', userId }] }, headers: { 'idempotency-key': 'batch-header-1' } });
    for (const answer of [await batch(a.url), await batch(b.url)]) {
      expect(answer.status).toBe(400);
      expect(answer.body.code).toBe('VALIDATION_FAILED');
      expect(answer.body.errors?.map((error) => error.field)).toEqual(['Idempotency-Key']);
    }
    expect(await rowsTitled(title)).toBe(0);
  });

  it('sendMany from host code: same rules, a retry by key returns the originals', async () => {
    const service = a.app.get(NotificationService);
    const tenantId = (await demoUser('admin@acme.test')).tenantId;
    const key = `svc-${randomUUID()}`;
    const items = [
      { scope: 'USER' as const, userId, title: uniqueTitle('many'), content: 'a', idempotencyKey: key },
      { scope: 'TENANT' as const, tenantId, title: uniqueTitle('many'), content: 'b' },
    ];
    const sent = await service.sendMany(items);
    expect(sent.map((n) => n.stream)).toEqual([`user:${userId}`, `tenant:${tenantId}`]);
    const again = await b.app.get(NotificationService).sendMany([items[0] as (typeof items)[0]]);
    expect(again[0]?.id).toBe(sent[0]?.id);
    await expect(service.sendMany([{ ...items[1], title: '' } as (typeof items)[1]])).rejects.toMatchObject({ code: 'VALIDATION_FAILED', errors: [expect.objectContaining({ field: 'items.0.title' })] });
    await expect(service.sendMany([])).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(service.sendToUser(userId, { title: 'k', content: 'k', idempotencyKey: 'bad key!' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
