import { randomUUID } from 'node:crypto';
import { sign } from 'jsonwebtoken';
import { Client } from 'pg';
import type { NotificationView } from '@notify-gateway/contracts';
import { publish, uniqueTitle } from '../support/http';
import { uniquePrefix } from '../support/redis-server';
import { killAll, ServerProcess } from '../support/server-process';
import { collect, connect, settle, type ClientSocket } from '../support/sockets';
import { TEST_JWT_SECRET } from '../support/test-app';
import { demoUser, sql, tokenFor } from '../support/users';

const SHARED_REDIS = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Measured in the churn bench: a publish still in flight when its instance got SIGTERM was
 * stored and answered 201, but its live event never left the instance (the socket server and its
 * Redis clients closed before the HTTP server had drained). A reader live on the other instance
 * missed it, and with no later notification in its stream nothing ever showed the gap.
 */
describe('a publish in flight when its instance is told to stop', () => {
  let a: ServerProcess;
  let b: ServerProcess;
  let socket: ClientSocket | undefined;
  let lock: Client | undefined;

  afterAll(async () => {
    socket?.close();
    await lock?.end().catch(() => undefined);
    await Promise.allSettled([a?.stop(), b?.stop()]);
    killAll();
  });

  it('reaches a socket live on the other instance; a publish after the signal is refused with 503; the instance exits 0', async () => {
    const env = { REDIS_URL: SHARED_REDIS, REDIS_KEY_PREFIX: uniquePrefix('stop-fanout'), SHUTDOWN_TIMEOUT_MS: '8000' };
    [a, b] = await Promise.all([ServerProcess.start(env), ServerProcess.start(env)]);
    const tenantId = (await demoUser('admin@acme.test')).tenantId;
    const userId = randomUUID();
    await sql(`INSERT INTO users (id, email, password_hash, role, is_active, tenant_id, updated_at) VALUES ($1, $2, '!', 'USER', true, $3, now())`, [userId, `stop-fanout-${userId}@acme.test`, tenantId]);
    const admin = await tokenFor('admin@acme.test');
    // The stream's counter row exists once something was published to it.
    expect((await publish(a.url, admin, { title: uniqueTitle('before'), content: 'c', scope: 'USER', userId })).status).toBe(201);

    socket = await connect(b.url, { token: sign({ sub: userId }, TEST_JWT_SECRET, { algorithm: 'HS256', expiresIn: 900 }) });
    const inbox: NotificationView[] = collect(socket, 'notification:new');

    // Hold the stream's counter row: A's group commit for it waits until the test lets go.
    lock = new Client({ connectionString: process.env.TEST_DATABASE_URL });
    await lock.connect();
    await lock.query('BEGIN');
    await lock.query('SELECT 1 FROM notification_streams WHERE stream = $1 FOR UPDATE', [`user:${userId}`]);
    const title = uniqueTitle('in-flight');
    const pending = publish(a.url, admin, { title, content: 'c', scope: 'USER', userId });
    await settle(300);
    a.child.kill('SIGTERM');
    // Long enough for A's shutdown to reach its transports while the publish still waits.
    await settle(1000);
    // Meanwhile A takes no new publish: the publisher is told to come back (to another instance).
    const lateTitle = uniqueTitle('late');
    const late = await publish(a.url, admin, { title: lateTitle, content: 'c', scope: 'USER', userId });
    expect({ status: late.status, body: late.body, retryAfter: late.headers.get('retry-after') }).toEqual({
      status: 503,
      body: { statusCode: 503, code: 'SERVICE_UNAVAILABLE', message: 'Service temporarily unavailable' },
      retryAfter: '1',
    });
    await lock.query('COMMIT');
    await lock.end();
    lock = undefined;

    const answer = await pending;
    expect(answer.status).toBe(201);
    for (let i = 0; i < 30 && !inbox.some((n) => n.title === title); i += 1) await settle(100);
    expect(inbox.filter((n) => n.title === title).map((n) => n.id)).toEqual([answer.body.id]);
    expect(await a.waitForExit(10_000)).toEqual({ code: 0, signal: null });
    expect(await sql('SELECT 1 FROM notifications WHERE title = $1', [lateTitle])).toEqual([]);
    // The refusal is load shed on purpose: a warning with its code, not an error with a stack.
    const lines = a.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: string | number; msg: string; code?: string });
    expect(lines.filter((line) => line.msg === 'request refused for now').map((line) => [line.level, line.code])).toEqual([['warn', 'SERVICE_UNAVAILABLE']]);
    expect(lines.filter((line) => line.level === 'error' || line.level === 50)).toEqual([]);
  }, 60_000);
});
