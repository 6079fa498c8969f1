import { publish, uniqueTitle } from '../support/http';
import { collect, connect, nextEvent, settle } from '../support/sockets';
import { startApp } from '../support/test-app';
import { uniquePrefix } from '../support/redis-server';
import { demoUser, tokenFor } from '../support/users';
import { crossInstanceCases } from './cross-instance';

const SHARED_REDIS = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('two instances sharing one Redis (single node)', () => {
  const prefix = uniquePrefix('single');
  crossInstanceCases(() => ({ REDIS_URL: SHARED_REDIS, REDIS_KEY_PREFIX: prefix }));
});

describe('negative control: the same two instances without the Redis adapter', () => {
  it('deliver locally but never across instances', async () => {
    const a = await startApp();
    const b = await startApp();
    try {
      const user = await demoUser('user@acme.test');
      const token = await tokenFor('user@acme.test');
      const onA = await connect(a.url, { token });
      const onB = await connect(b.url, { token });
      const inboxB = collect(onB, 'notification:new');
      const title = uniqueTitle('no-adapter');
      const localDelivery = nextEvent(onA, 'notification:new');
      const response = await publish(a.url, await tokenFor('admin@acme.test'), { title, content: 'c', scope: 'USER', userId: user.id });
      expect(response.status).toBe(201);
      expect((await localDelivery).title).toBe(title);
      await settle(800);
      expect(inboxB.filter((n) => n.title === title)).toEqual([]);
      onA.close();
      onB.close();
    } finally {
      await a.close();
      await b.close();
    }
  });
});
