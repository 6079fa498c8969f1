import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { ConnectionService } from '../../src/notifications/connection.service';
import { uniquePrefix } from '../support/redis-server';
import { settle } from '../support/sockets';
import { freshUser, isNotification, mintTicket, openStream, postNotification, type StreamClient } from '../support/sse';
import { startApp, type RunningApp } from '../support/test-app';
import { tokenFor } from '../support/users';

const SHARED_REDIS = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('SSE across two instances sharing Redis', () => {
  const prefix = uniquePrefix('sse');
  let a: RunningApp;
  let b: RunningApp;
  let redis: Redis;
  const open: StreamClient[] = [];

  beforeAll(async () => {
    a = await startApp({ REDIS_URL: SHARED_REDIS, REDIS_KEY_PREFIX: prefix });
    b = await startApp({ REDIS_URL: SHARED_REDIS, REDIS_KEY_PREFIX: prefix });
    redis = new Redis(SHARED_REDIS);
  });
  afterEach(() => {
    for (const stream of open.splice(0)) stream.close();
  });
  afterAll(async () => {
    redis.disconnect();
    await a.close();
    await b.close();
  });

  const stream = async (...args: Parameters<typeof openStream>): Promise<StreamClient> => {
    const client = await openStream(...args);
    open.push(client);
    return client;
  };

  it('a ticket minted on A works once, on any instance, and is stored only as a hash', async () => {
    const ticket = await mintTicket(a.url, await tokenFor('user@acme.test'));
    const keys = await redis.keys(`${prefix}:sse-ticket:*`);
    expect(keys.length).toBeGreaterThanOrEqual(1);
    for (const key of keys) {
      expect(key).not.toContain(ticket);
      expect(await redis.get(key)).not.toContain(ticket);
      expect(await redis.ttl(key)).toBeGreaterThan(0);
    }

    expect((await stream(b.url, { ticket })).status).toBe(200);
    for (const base of [a.url, b.url]) {
      const reused = await stream(base, { ticket });
      expect(reused.status).toBe(401);
      expect(reused.body).toEqual({ statusCode: 401, code: 'UNAUTHORIZED', message: 'Unauthorized' });
    }
  });

  it('a notification published on A reaches the stream on B, once', async () => {
    const tag = randomUUID();
    const user = await freshUser('admin@acme.test');
    const onB = await stream(b.url, { ticket: await mintTicket(a.url, user.token()) });
    const posted = await postNotification(a.url, await tokenFor('admin@acme.test'), { title: `cross ${tag}`, content: 'x', userId: user.id });
    const message = await onB.waitFor(isNotification(tag));
    expect(message.id).toBe(`u.${posted.epoch}.${posted.offset}`);
    await settle(300);
    expect(onB.messages.filter(isNotification(tag))).toHaveLength(1);
  });

  it('disconnectUser on A ends the user\'s stream on B', async () => {
    const user = await freshUser('admin@globex.test');
    const onB = await stream(b.url, { token: user.token() });
    a.app.get(ConnectionService).disconnectUser(user.id);
    await onB.waitFor((message) => message.event === 'notification:session-expiring').then((message) => expect(message.data).toEqual({ code: 'USER_DISCONNECTED' }));
    await onB.ended;
  });
});
