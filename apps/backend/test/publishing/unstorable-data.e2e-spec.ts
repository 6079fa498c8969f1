import { randomUUID } from 'node:crypto';
import type { NotificationView } from '@notify-gateway/contracts';
import { NotificationService } from '../../src/notifications/notification.service';
import { http, uniqueTitle } from '../support/http';
import { connect, request, type ClientSocket } from '../support/sockets';
import { startApp, type RunningApp } from '../support/test-app';
import { demoUser, sql, tokenFor } from '../support/users';

type Body = NotificationView & { code?: string; errors?: { field: string; messages: string[] }[] };

/**
 * `data` is stored as jsonb, which cannot hold U+0000 nor an unpaired surrogate (JSON allows
 * both as escapes). Such data is the client's mistake: a 400 naming `data` on every door, before
 * anything is stored, and never a 500 from the group statement. Text columns take an unpaired
 * surrogate as U+FFFD, so title and content refuse it too: what is stored is what was answered.
 */
describe('text that PostgreSQL cannot store as sent', () => {
  let app: RunningApp;
  let admin: string;
  let userId: string;
  let socket: ClientSocket;

  beforeAll(async () => {
    app = await startApp();
    admin = await tokenFor('admin@acme.test');
    userId = (await demoUser('user@acme.test')).id;
    socket = await connect(app.url, { token: admin });
  });
  afterAll(async () => {
    socket?.close();
    await app.close();
  });

  const stored = async (prefix: string): Promise<number> => (await sql<{ n: number }>('SELECT count(*)::int AS n FROM notifications WHERE title LIKE $1', [`${prefix}%`]))[0]?.n ?? -1;
  // Raw JSON text, so the escapes reach the server exactly as a client wrote them.
  const unstorable = { nulInValue: '{"a":"x\\u0000y"}', nulInKey: '{"a\\u0000":1}', loneHigh: '{"a":"\\ud800"}', loneLowNested: '{"a":{"b":["ok","\\udc00x"]}}' };

  it.each(Object.entries(unstorable))('POST /notifications with %s in data: 400 on data, nothing stored', async (_, data) => {
    const title = uniqueTitle('unstorable rest');
    const answer = await http<Body>(`${app.url}/notifications`, { token: admin, body: `{"title":"${title}","content":"c","userId":"${userId}","data":${data}}`, headers: { 'idempotency-key': `nul-${randomUUID()}` } });
    expect([answer.status, answer.body.code, answer.body.errors?.map((error) => error.field)]).toEqual([400, 'VALIDATION_FAILED', ['data']]);
    expect(await stored(title)).toBe(0);
  });

  it('a batch with one such item is refused naming the item; nothing of it is stored', async () => {
    const tag = uniqueTitle('unstorable batch');
    const items = [0, 1, 2].map((i) => `{"title":"${tag} ${i}","content":"c","userId":"${userId}"${i === 1 ? `,"data":${unstorable.nulInValue}` : ''}}`);
    const answer = await http<Body>(`${app.url}/notifications/batch`, { token: admin, body: `{"items":[${items.join(',')}]}` });
    expect([answer.status, answer.body.code, answer.body.errors?.map((error) => error.field)]).toEqual([400, 'VALIDATION_FAILED', ['items.1.data']]);
    expect(await stored(tag)).toBe(0);
  });

  it('notification:create and host code get VALIDATION_FAILED too; other publishers of the same turn are stored', async () => {
    const tag = uniqueTitle('unstorable socket');
    const ack = await request(socket, 'notification:create', { title: `${tag} bad`, content: 'c', userId, data: { a: 'x\u0000y' } });
    expect(ack).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });

    const service = app.app.get(NotificationService);
    const [bad, ...good] = await Promise.allSettled([
      service.sendToUser(userId, { title: `${tag} host bad`, content: 'c', data: { a: '\ud800' } }),
      ...[0, 1, 2].map((i) => service.sendToUser(userId, { title: `${tag} good ${i}`, content: 'c', data: { i } })),
    ]);
    expect(bad).toMatchObject({ status: 'rejected', reason: { code: 'VALIDATION_FAILED', errors: [expect.objectContaining({ field: 'data' })] } });
    expect(good.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    expect(await stored(`${tag} good`)).toBe(3);
    expect(await stored(`${tag} bad`)).toBe(0);
    expect(await stored(`${tag} host bad`)).toBe(0);
  });

  it('an unpaired surrogate in title or content is refused naming the field: stored, it would become U+FFFD, and the retry would answer another title than the first answer', async () => {
    const title = uniqueTitle('unpaired');
    const answer = async (text: string): Promise<unknown> => {
      const response = await http<Body>(`${app.url}/notifications`, { token: admin, body: `{${text},"userId":"${userId}"}`, headers: { 'idempotency-key': `unpaired-${randomUUID()}` } });
      return [response.status, response.body.errors?.map((error) => error.field)];
    };
    expect(await answer(`"title":"${title} \\ud800","content":"c"`)).toEqual([400, ['title']]);
    expect(await answer(`"title":"${title}","content":"c \\udfff"`)).toEqual([400, ['content']]);
    expect(await stored(title)).toBe(0);
    const ack = await request(socket, 'notification:create', { title: `${title} \udc00`, content: 'c', userId });
    expect(ack).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    await expect(app.app.get(NotificationService).sendToUser(userId, { title, content: '\ud83d' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', errors: [expect.objectContaining({ field: 'content' })] });
    expect(await stored(title)).toBe(0);
  });

  it('paired surrogates (emoji) and other escapes in data are stored as sent', async () => {
    const data = { emoji: '😀', escaped: 'tab\there "quoted" \\ \u0001', key: { '😀': ['\u00e9'] } };
    const answer = await http<Body>(`${app.url}/notifications`, { token: admin, body: { title: uniqueTitle('storable'), content: 'c', userId, data } });
    expect(answer.status).toBe(201);
    expect((await sql<{ data: unknown }>('SELECT data FROM notifications WHERE id = $1', [answer.body.id]))[0]?.data).toEqual(data);
  });
});
