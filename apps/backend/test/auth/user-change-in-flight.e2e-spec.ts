import { NOTIFICATIONS_NAMESPACE, type NotificationView } from '@notify-gateway/contracts';
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { io } from 'socket.io-client';
import { UserAccountService } from '../../src/users/user-account.service';
import { freshUser, openStream, postNotification, type StreamClient, type TestUser } from '../support/sse';
import { OwnRedis, uniquePrefix } from '../support/redis-server';
import { collect, settle, type ClientSocket } from '../support/sockets';
import { ALLOWED_ORIGIN, startApp, type RunningApp } from '../support/test-app';
import { sql, tokenFor } from '../support/users';

/**
 * A demotion or deactivation committed while a stream is being admitted: the user was read
 * before the change, and the re-check the change triggers finds no session yet. The stream must
 * still follow the change at once, not at the next periodic re-check (60 s by default).
 *
 * The window is held open for real: an ACCESS EXCLUSIVE lock on `notification_streams` makes the
 * stream's starting positions (read after the user) wait in PostgreSQL; for a socket, a paused
 * Redis of the test's own holds the per-user connection count (taken after the user is read).
 */
/** Holds `table` locked until released; `waiting` resolves once a query of the app waits on it. */
async function lockTable(table: string): Promise<{ waiting: () => Promise<void>; release: () => Promise<void> }> {
  const client = new Client({ connectionString: process.env.TEST_DATABASE_URL });
  await client.connect();
  await client.query('BEGIN');
  await client.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
  return {
    waiting: async () => {
      const deadline = Date.now() + 5000;
      for (;;) {
        const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = $1 AND NOT l.granted`, [table]);
        if (rows[0].n > 0) return;
        if (Date.now() > deadline) throw new Error(`nothing waited on the ${table} lock`);
        await settle(10);
      }
    },
    release: async () => {
      await client.query('ROLLBACK');
      await client.end();
    },
  };
}

async function tenantAdmin(): Promise<TestUser> {
  const user = await freshUser('admin@acme.test');
  await sql(`UPDATE users SET role = 'ADMIN' WHERE id = $1`, [user.id]);
  return user;
}

const titlesOf = (views: NotificationView[]): string[] => views.map((view) => view.title);

describe('a user change while a stream is being admitted', () => {
  let running: RunningApp;
  const streams: StreamClient[] = [];

  beforeAll(async () => {
    running = await startApp();
  });
  afterAll(async () => {
    for (const stream of streams) stream.close();
    await running?.close();
  });


  /** Opens `user`'s stream with the window held while `change` runs; resolves with the stream. */
  async function openDuring(user: TestUser, change: () => Promise<void>): Promise<StreamClient> {
    const lock = await lockTable('notification_streams');
    let opening: Promise<StreamClient>;
    try {
      opening = openStream(running.url, { token: user.token() });
      await lock.waiting();
      await change();
    } finally {
      await lock.release();
    }
    const stream = await opening;
    streams.push(stream);
    return stream;
  }

  it('an ADMIN demoted while the stream is admitted gets no tenant broadcast, and keeps the stream', async () => {
    const user = await tenantAdmin();
    const stream = await openDuring(user, () => running.app.get(UserAccountService).changeRole(user.id, 'USER'));
    expect(stream.status).toBe(200);
    await settle(200);
    const admin = await tokenFor('admin@acme.test');
    const tag = randomUUID();
    await postNotification(running.url, admin, { title: `tenant ${tag}`, content: 'x', scope: 'TENANT' });
    await postNotification(running.url, admin, { title: `own ${tag}`, content: 'x', userId: user.id });
    await stream.waitFor((message) => message.event === 'notification:new' && (message.data as { title: string }).title === `own ${tag}`);
    await settle(300);
    const titles = stream.messages.filter((message) => message.event === 'notification:new').map((message) => (message.data as { title: string }).title);
    expect(titles).toEqual([`own ${tag}`]);
    expect(stream.isEnded()).toBe(false);
  });

  it('a user deactivated while the stream is admitted is ended with USER_DISCONNECTED', async () => {
    const user = await freshUser('admin@acme.test');
    const stream = await openDuring(user, () => running.app.get(UserAccountService).deactivate(user.id));
    if (stream.status !== 200) return; // refused outright: as good as ended
    await stream.waitFor((message) => message.event === 'notification:session-expiring', 1000);
    expect(stream.messages.filter((message) => message.event === 'notification:session-expiring').map((message) => message.data)).toEqual([{ code: 'USER_DISCONNECTED' }]);
  });
});

describe('a user change while a socket is being admitted', () => {
  let redis: OwnRedis;
  let control: Redis;
  let running: RunningApp;
  const sockets: ClientSocket[] = [];

  beforeAll(async () => {
    redis = await OwnRedis.start();
    control = new Redis(redis.url);
    running = await startApp({ REDIS_URL: redis.url, REDIS_KEY_PREFIX: uniquePrefix('user-change') });
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await running?.close();
    control?.disconnect();
    await redis?.destroy();
  });

  it('an ADMIN demoted while the socket is admitted gets no tenant broadcast, and keeps the socket', async () => {
    const user = await tenantAdmin();
    // Past the engine handshake (which spends the connect rate in Redis) to the user read.
    const lock = await lockTable('users');
    const socket: ClientSocket = io(running.url + NOTIFICATIONS_NAMESPACE, {
      auth: { token: user.token() },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      extraHeaders: { origin: ALLOWED_ORIGIN },
    });
    sockets.push(socket);
    const received = collect(socket, 'notification:new');
    let changing: Promise<void> | undefined;
    try {
      await lock.waiting();
      // The per-user connection count (a Redis script, after the user is read) waits now.
      await control.call('CLIENT', 'PAUSE', '5000', 'WRITE');
      await lock.release();
      await settle(200);
      changing = running.app.get(UserAccountService).changeRole(user.id, 'USER');
      // Committed and re-checked here (its publish to other instances waits on Redis too).
      while ((await sql<{ role: string }>('SELECT role FROM users WHERE id = $1', [user.id]))[0].role !== 'USER') await settle(10);
      await settle(300);
    } finally {
      await control.call('CLIENT', 'UNPAUSE');
    }
    await changing;
    await new Promise<void>((resolve, reject) => {
      if (socket.connected) resolve();
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    await settle(200);
    const admin = await tokenFor('admin@acme.test');
    const tag = randomUUID();
    await postNotification(running.url, admin, { title: `tenant ${tag}`, content: 'x', scope: 'TENANT' });
    await postNotification(running.url, admin, { title: `own ${tag}`, content: 'x', userId: user.id });
    await settle(500);
    expect(titlesOf(received)).toEqual([`own ${tag}`]);
    expect(socket.connected).toBe(true);
  });
});
