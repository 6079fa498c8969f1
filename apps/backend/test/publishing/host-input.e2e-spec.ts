import { randomUUID } from 'node:crypto';
import { NotificationService, type NotificationSendItem } from '../../src/notifications/notification.service';
import { http, uniqueTitle } from '../support/http';
import { startApp, type RunningApp } from '../support/test-app';
import { demoUser, sql, tokenFor } from '../support/users';

/**
 * Host code calls NotificationService from TypeScript or plain JavaScript. What it gets wrong is
 * refused as a client's input is (BACKEND.md: ApiError VALIDATION_FAILED, nothing stored), not
 * with a TypeError, a stack overflow or a database error out of the shared group statement.
 */
describe('host code input to NotificationService', () => {
  let app: RunningApp;
  let service: NotificationService;
  let userId: string;
  let adminId: string;

  beforeAll(async () => {
    app = await startApp();
    service = app.app.get(NotificationService);
    userId = (await demoUser('user@acme.test')).id;
    adminId = (await demoUser('admin@acme.test')).id;
  });
  afterAll(async () => {
    await app.close();
  });

  const stored = async (prefix: string): Promise<number> => (await sql<{ n: number }>('SELECT count(*)::int AS n FROM notifications WHERE title LIKE $1', [`${prefix}%`]))[0]?.n ?? -1;
  const refusal = (field: string) => ({ code: 'VALIDATION_FAILED', errors: [expect.objectContaining({ field })] });
  const loose = <T>(value: unknown): T => value as T;

  it('a createdById that is no UUID is refused naming it; the publishers of the same turn are stored', async () => {
    const tag = uniqueTitle('host author');
    const [bad, ...good] = await Promise.allSettled([
      service.sendToUser(userId, { title: `${tag} bad`, content: 'c', createdById: 'not-a-uuid' }),
      ...[0, 1].map((i) => service.sendToUser(userId, { title: `${tag} good ${i}`, content: 'c' })),
    ]);
    expect(bad).toMatchObject({ status: 'rejected', reason: refusal('createdById') });
    expect(good.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled']);
    await expect(service.sendMany([{ scope: 'USER', userId, title: `${tag} many`, content: 'c' }, { scope: 'USER', userId, title: `${tag} many`, content: 'c', createdById: '42' }])).rejects.toMatchObject(refusal('items.1.createdById'));
    expect(await stored(`${tag} bad`)).toBe(0);
    expect(await stored(`${tag} many`)).toBe(0);
    expect(await stored(`${tag} good`)).toBe(2);
  });

  it('an upper-case createdById is the same publisher as the user id: its key is the one the user\'s REST retry finds', async () => {
    const key = `host-upper-${randomUUID()}`;
    const title = uniqueTitle('host upper author');
    const sent = await service.sendToUser(userId, { title, content: 'c', createdById: adminId.toUpperCase(), idempotencyKey: key });
    const retry = await http<{ id: string }>(`${app.url}/notifications`, { token: await tokenFor('admin@acme.test'), body: { title, content: 'c', userId }, headers: { 'idempotency-key': key } });
    expect([retry.status, retry.body.id]).toEqual([201, sent.id]);
    expect(await stored(title)).toBe(1);
  });

  it('a missing recipient or tenant, an unknown scope or an item that is no object: VALIDATION_FAILED naming it', async () => {
    const tag = uniqueTitle('host shape');
    await expect(service.sendToUser(loose<string>(undefined), { title: tag, content: 'c' })).rejects.toMatchObject(refusal('userId'));
    await expect(service.sendToTenant(loose<string>(null), { title: tag, content: 'c' })).rejects.toMatchObject(refusal('tenantId'));
    await expect(service.sendMany([{ scope: 'USER', userId, title: tag, content: 'c' }, loose<NotificationSendItem>({ scope: 'USER', title: tag, content: 'c' })])).rejects.toMatchObject(refusal('items.1.userId'));
    await expect(service.sendMany([loose<NotificationSendItem>({ scope: 'EVERYONE', title: tag, content: 'c' })])).rejects.toMatchObject(refusal('items.0.scope'));
    await expect(service.sendMany([{ scope: 'GLOBAL', title: tag, content: 'c' }, loose<NotificationSendItem>(null)])).rejects.toMatchObject(refusal('items.1'));
    expect(await stored(tag)).toBe(0);
  });

  it('data that refers to itself is refused on data', async () => {
    const tag = uniqueTitle('host cycle');
    const data: Record<string, unknown> = { a: 1 };
    data.self = data;
    await expect(service.sendToUser(userId, { title: tag, content: 'c', data })).rejects.toMatchObject(refusal('data'));
    await expect(service.sendMany([{ scope: 'USER', userId, title: tag, content: 'c', data: { list: [data] } }])).rejects.toMatchObject(refusal('items.0.data'));
    expect(await stored(tag)).toBe(0);
  });

  it('the request a key stands for is the data as stored: a Date is its ISO string, an undefined value is no key', async () => {
    const title = uniqueTitle('host hash');
    const key = `host-hash-${randomUUID()}`;
    const first = await service.sendToUser(userId, { title, content: 'c', data: { due: new Date(0), note: 'n' }, idempotencyKey: key });
    // Another date is another request.
    await expect(service.sendToUser(userId, { title, content: 'c', data: { due: new Date(86_400_000), note: 'n' }, idempotencyKey: key })).rejects.toMatchObject({ code: 'IDEMPOTENCY_CONFLICT' });
    // The same data as stored is the same request.
    const again = await service.sendToUser(userId, { title, content: 'c', data: { due: new Date(0).toISOString(), note: 'n', coupon: undefined }, idempotencyKey: key });
    expect(again.id).toBe(first.id);
    expect(await stored(title)).toBe(1);
  });
});
