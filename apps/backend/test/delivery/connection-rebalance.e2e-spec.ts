import { connect, settle, type ClientSocket } from '../support/sockets';
import { uniquePrefix } from '../support/redis-server';
import { startApp, type RunningApp } from '../support/test-app';
import { tokenFor, type DemoEmail } from '../support/users';

const SHARED_REDIS = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PER_USER = 30;

interface Watched {
  socket: ClientSocket;
  notices: { code: string; reconnectWithinMs?: number }[];
}

async function open(url: string, email: DemoEmail, count: number): Promise<Watched[]> {
  const out: Watched[] = [];
  for (let i = 0; i < count; i += 1) {
    const socket = await connect(url, { token: await tokenFor(email) });
    const watched: Watched = { socket, notices: [] };
    socket.on('notification:session-expiring', (notice) => watched.notices.push(notice));
    out.push(watched);
  }
  return out;
}

const told = (list: Watched[]): Watched[] => list.filter((w) => w.notices.length > 0);

/**
 * After a restart nothing moves clients back to the instance that came up empty. Two instances
 * on one Redis, every socket on A: A asks its excess over the cluster's mean to reconnect
 * (SERVER_SHUTDOWN with a spread), once the counts are even it leaves them alone, and B, below
 * the mean, never sheds.
 */
describe('connection rebalancing between two instances', () => {
  let a: RunningApp;
  let b: RunningApp;
  const sockets: Watched[] = [];

  const env = { REDIS_URL: SHARED_REDIS, REDIS_KEY_PREFIX: uniquePrefix('rebalance'), REBALANCE_INTERVAL_MS: '300' };

  beforeAll(async () => {
    a = await startApp(env);
  });
  afterAll(async () => {
    for (const { socket } of sockets) socket.close();
    await Promise.allSettled([a?.close(), b?.close()]);
  });

  it('the crowded instance sheds its excess over the mean, then stops; the emptier one sheds nothing', async () => {
    const onA = [...(await open(a.url, 'user@acme.test', PER_USER)), ...(await open(a.url, 'user@globex.test', PER_USER))];
    sockets.push(...onA);
    // B joins once all 60 are on A: a round taken while A was still filling up (56 of 60, mean 28)
    // would move fewer than 30, and what is left over is below the threshold.
    b = await startApp(env);
    for (let i = 0; i < 20 && told(onA).length < PER_USER; i += 1) await settle(200);
    // 60 on A, 0 on B: the mean is 30, so 30 are asked to move, with a spread to reconnect within.
    await settle(1500);
    const movedFromA = told(onA);
    expect(movedFromA).toHaveLength(PER_USER);
    for (const { notices, socket } of movedFromA) {
      expect(notices).toEqual([{ code: 'SERVER_SHUTDOWN', reconnectWithinMs: 1000 }]);
      expect(socket.connected).toBe(false);
    }
    expect(onA.filter((w) => w.socket.connected)).toHaveLength(PER_USER);

    // Even now (30 and 30): several more rounds move nothing, on either instance.
    const onB = await open(b.url, 'user@acme.test', PER_USER);
    sockets.push(...onB);
    await settle(1500);
    expect(told(onA)).toHaveLength(PER_USER);
    expect(told(onB)).toHaveLength(0);
    expect(onB.every((w) => w.socket.connected)).toBe(true);
  }, 60_000);
});
