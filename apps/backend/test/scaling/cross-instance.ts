import { randomUUID } from 'node:crypto';
import type { NotificationView } from '@notify-gateway/contracts';
import { ConfigService } from '@nestjs/config';
import { RedisService } from '../../src/core/redis/redis.service';
import { ConnectionService } from '../../src/notifications/connection.service';
import { UserConnectionCounter } from '../../src/security/user-connection-counter';
import { publish, uniqueTitle } from '../support/http';
import { notificationsOf, openStream, type StreamClient } from '../support/sse';
import { collect, connect, nextEvent, refusal, request, settle, waitForDisconnect, type ClientSocket } from '../support/sockets';
import { startApp, type RunningApp } from '../support/test-app';
import { demoUser, tokenFor, type DemoEmail } from '../support/users';

const EVERYONE: DemoEmail[] = ['root@platform.test', 'admin@acme.test', 'user@acme.test', 'admin@globex.test', 'user@globex.test'];

/**
 * The cases every multi-instance setup must pass: two apps sharing a Redis (single node or
 * Cluster) behave as one gateway. `env` returns the Redis settings for both instances.
 */
export function crossInstanceCases(env: () => Record<string, string>): void {
  let a: RunningApp;
  let b: RunningApp;
  const onB = new Map<DemoEmail, ClientSocket>();
  const inboxB = new Map<DemoEmail, NotificationView[]>();
  const streamsB = new Map<DemoEmail, StreamClient>();

  beforeAll(async () => {
    a = await startApp({ ...env(), MAX_CONNECTIONS_PER_USER: '6', WS_RATE_LIMIT_POINTS: '20' });
    b = await startApp({ ...env(), MAX_CONNECTIONS_PER_USER: '6', WS_RATE_LIMIT_POINTS: '20' });
    for (const email of EVERYONE) {
      const socket = await connect(b.url, { token: await tokenFor(email) });
      onB.set(email, socket);
      inboxB.set(email, collect(socket, 'notification:new'));
      streamsB.set(email, await openStream(b.url, { token: await tokenFor(email) }));
    }
  });
  afterAll(async () => {
    for (const socket of onB.values()) socket.close();
    for (const stream of streamsB.values()) stream.close();
    await a.close();
    await b.close();
  });

  /** Publishes on A; who received it on B, over sockets and over SSE streams. */
  async function recipientsOnB(publisher: DemoEmail, body: Record<string, unknown>): Promise<{ sockets: DemoEmail[]; streams: DemoEmail[] }> {
    const title = uniqueTitle('cross');
    const response = await publish(a.url, await tokenFor(publisher), { title, content: 'c', ...body });
    expect(response.status).toBe(201);
    const sockets = (): DemoEmail[] => EVERYONE.filter((email) => inboxB.get(email)?.some((n) => n.title === title));
    const streams = (): DemoEmail[] => EVERYONE.filter((email) => notificationsOf(streamsB.get(email)?.messages ?? [], title).length > 0);
    // Delivery is pushed; wait until someone has it on both transports, then a little for strays.
    for (let i = 0; i < 50 && (sockets().length === 0 || streams().length === 0); i += 1) await settle(50);
    await settle(300);
    return { sockets: sockets(), streams: streams() };
  }

  it('USER, TENANT and GLOBAL published on A reach the right sockets and streams on B, and only those', async () => {
    const user = await demoUser('user@acme.test');
    const both = (recipients: DemoEmail[]) => ({ sockets: recipients, streams: recipients });
    expect(await recipientsOnB('admin@acme.test', { scope: 'USER', userId: user.id })).toEqual(both(['user@acme.test']));
    expect(await recipientsOnB('admin@acme.test', { scope: 'TENANT' })).toEqual(both(['root@platform.test', 'admin@acme.test']));
    expect(await recipientsOnB('admin@globex.test', { scope: 'TENANT' })).toEqual(both(['admin@globex.test']));
    expect(await recipientsOnB('root@platform.test', { scope: 'GLOBAL' })).toEqual(both(['root@platform.test']));
  });

  it('mark-read on A reaches the user\'s socket on B', async () => {
    const user = await demoUser('user@acme.test');
    const created = await publish(a.url, await tokenFor('admin@acme.test'), { title: uniqueTitle('read'), content: 'c', scope: 'USER', userId: user.id });
    const read = nextEvent(onB.get('user@acme.test') as ClientSocket, 'notification:read');
    const onA = await connect(a.url, { token: await tokenFor('user@acme.test') });
    expect(await request(onA, 'notification:mark-read', { notificationId: created.body.id })).toEqual({ ok: true });
    expect(await read).toEqual({ id: created.body.id });
    onA.close();
  });

  it('12 events on A and 12 on B from one user inside one window trip the limit of 20', async () => {
    const token = await tokenFor('user@globex.test');
    const [sa, sb] = [await connect(a.url, { token }), await connect(b.url, { token })];
    const acks = [];
    for (let i = 0; i < 12; i += 1) acks.push(await request(sa, 'notification:sync', { limit: 1 }));
    for (let i = 0; i < 12; i += 1) acks.push(await request(sb, 'notification:sync', { limit: 1 }));
    expect(acks.filter((ack) => ack.ok).length).toBe(20);
    expect(acks.slice(20).every((ack) => !ack.ok && ack.error.code === 'RATE_LIMITED')).toBe(true);
    sa.close();
    sb.close();
  });

  it('the per-user connection cap holds across instances and frees a slot on disconnect', async () => {
    const token = await tokenFor('admin@globex.test');
    // admin@globex.test already holds a socket and a stream on B (streams count too); the cap is 6.
    const extra = [await connect(a.url, { token }), await connect(b.url, { token }), await connect(a.url, { token }), await connect(b.url, { token })];
    expect(await refusal(a.url, { token })).toBe('CONNECTION_LIMIT');
    expect(await refusal(b.url, { token })).toBe('CONNECTION_LIMIT');
    const gone = waitForDisconnect(extra[0]);
    extra[0].close();
    await gone.catch(() => undefined);
    await settle(200);
    const again = await connect(b.url, { token });
    expect(again.connected).toBe(true);
    for (const socket of [...extra, again]) socket.close();
  });

  it('the periodic refresh re-scores this instance\'s entries of a user and extends the key, and leaves a dead instance\'s entry to age out', async () => {
    const redis = a.app.get(RedisService).client;
    if (!redis) throw new Error('these cases run with Redis');
    const prefix = a.app.get(ConfigService).get<string>('redisKeyPrefix');
    const userId = (await demoUser('user@acme.test')).id;
    const key = `${prefix}:conn:user:{${userId}}`;
    const counter = b.app.get(UserConnectionCounter) as unknown as { refresh(): Promise<void> };
    // user@acme.test holds a socket and a stream on B: age both entries, and add one of an instance that died.
    const mine = await redis.zrange(key, '0', '-1');
    expect(mine).toHaveLength(2);
    await redis.zadd(key, ...mine.flatMap((member) => ['1', member]), '1', 'dead-instance:conn');
    await redis.pexpire(key, 1000);
    const before = Date.now();
    await counter.refresh();
    const scores = new Map<string, number>();
    const flat = await redis.zrange(key, '0', '-1', 'WITHSCORES');
    for (let i = 0; i < flat.length; i += 2) scores.set(flat[i] as string, Number(flat[i + 1]));
    for (const member of mine) expect(scores.get(member)).toBeGreaterThanOrEqual(before);
    expect(scores.get('dead-instance:conn')).toBe(1);
    expect(await redis.pttl(key)).toBeGreaterThan(60_000);
    // The next admission trims the dead entry: it never counted against the cap after its instance stopped refreshing.
    const socket = await connect(a.url, { token: await tokenFor('user@acme.test') });
    expect(await redis.zscore(key, 'dead-instance:conn')).toBeNull();
    socket.close();
  });

  it('disconnectUser called on A closes the user\'s sockets on B', async () => {
    const user = await demoUser('user@acme.test');
    const target = onB.get('user@acme.test') as ClientSocket;
    const control = onB.get('admin@acme.test') as ClientSocket;
    const notice = nextEvent(target, 'notification:session-expiring');
    const gone = waitForDisconnect(target);
    a.app.get(ConnectionService).disconnectUser(user.id);
    expect(await notice).toEqual({ code: 'USER_DISCONNECTED' });
    await gone;
    await settle(100);
    expect(control.connected).toBe(true);
  });

  it('a token logged out on A is refused on B, and its live socket on B ends with TOKEN_REVOKED', async () => {
    const token = await tokenFor('user@globex.test', { jwtid: randomUUID() });
    const live = await connect(b.url, { token });
    const notice = nextEvent(live, 'notification:session-expiring');
    const logout = await fetch(`${a.url}/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(logout.status).toBe(204);
    expect(await notice).toEqual({ code: 'TOKEN_REVOKED' });
    await waitForDisconnect(live);
    expect(await refusal(b.url, { token })).toBe('UNAUTHORIZED');
    expect(await refusal(b.url, { token: await tokenFor('user@globex.test') })).toBe('CONNECTED');
  });
}
