import type { NotificationView } from '@notify-gateway/contracts';
import { publish, uniqueTitle } from '../support/http';
import { OwnRedis, uniquePrefix } from '../support/redis-server';
import { ServerProcess } from '../support/server-process';
import { connect, request, settle, type ClientSocket } from '../support/sockets';
import { demoUser, tokenFor } from '../support/users';

/**
 * What a well-behaved client does (packages/client does more: it also spots gaps in the live
 * feed): dedupe by id, keep the position the last sync answered (never one taken from a live
 * event, which may be ahead of one still in flight), and after any reconnect sync from there
 * until nothing is left.
 */
class CatchUpClient {
  readonly held = new Map<string, NotificationView>();
  liveCount = 0;
  recoveredCount = 0;
  private position: string | undefined;
  private socket?: ClientSocket;

  constructor(private readonly token: string) {}

  async attach(url: string): Promise<void> {
    this.socket = await connect(url, { token: this.token });
    this.socket.on('notification:new', (n) => {
      if (this.keep(n)) this.liveCount += 1;
    });
    await this.sync();
  }

  get connected(): boolean {
    return this.socket?.connected ?? false;
  }

  close(): void {
    this.socket?.close();
  }

  async sync(): Promise<void> {
    const socket = this.socket;
    if (!socket) return;
    for (let page = 0; page < 100; page += 1) {
      const from = this.position === undefined ? { after: '0' } : { position: this.position };
      const ack = await request(socket, 'notification:sync', { ...from, limit: 100 });
      if (!ack.ok) throw new Error(`sync refused: ${ack.error.code}`);
      for (const n of ack.notifications) if (this.keep(n)) this.recoveredCount += 1;
      expect(ack.reset).toEqual([]);
      this.position = ack.position;
      if (!ack.hasMore) return;
    }
  }

  private keep(n: NotificationView): boolean {
    if (this.held.has(n.id)) return false;
    this.held.set(n.id, n);
    return true;
  }
}

describe('nothing lost across an instance crash and a Redis restart mid-stream', () => {
  let redis: OwnRedis;
  let a: ServerProcess;
  let b: ServerProcess;
  const clients: CatchUpClient[] = [];

  beforeAll(async () => {
    redis = await OwnRedis.start();
    const env = { REDIS_URL: redis.url, REDIS_KEY_PREFIX: uniquePrefix('crash') };
    [a, b] = await Promise.all([ServerProcess.start(env), ServerProcess.start(env)]);
  }, 60_000);
  afterAll(async () => {
    for (const client of clients) client.close();
    await Promise.all([a?.stop().catch(() => undefined), b?.stop().catch(() => undefined)]);
    await redis?.destroy();
  });

  it('clients on B reconnect to A after kill -9 of B, sync, and hold every accepted notification', async () => {
    const userId = (await demoUser('user@acme.test')).id;
    const admin = await tokenFor('admin@acme.test');
    for (let i = 0; i < 3; i += 1) {
      const client = new CatchUpClient(await tokenFor('user@acme.test'));
      await client.attach(b.url);
      clients.push(client);
    }
    const baseline = new Set(clients[0].held.keys());

    const accepted: string[] = [];
    let refused = 0;
    let publishing = true;
    const publisher = (async () => {
      for (let i = 0; i < 400 && publishing; i += 1) {
        const response = await publish(a.url, admin, { title: uniqueTitle('crash'), content: 'c', scope: 'USER', userId }).catch(() => undefined);
        if (response?.status === 201 && typeof response.body.id === 'string') accepted.push(response.body.id);
        else refused += 1;
        await settle(10);
      }
    })();

    await settle(500);
    b.crash();
    await b.waitForExit(5000);
    // The clients notice the dead transport and move to A.
    for (const client of clients) {
      for (let i = 0; i < 50 && client.connected; i += 1) await settle(100);
      await client.attach(a.url);
    }
    await settle(300);
    await redis.stop();
    await settle(500);
    await redis.resume();
    await settle(800);
    publishing = false;
    await publisher;
    for (const client of clients) await client.sync();

    for (const [index, client] of clients.entries()) {
      const newlyHeld = [...client.held.keys()].filter((id) => !baseline.has(id));
      const lost = accepted.filter((id) => !client.held.has(id));
      process.stdout.write(
        `client ${index}: published ${accepted.length} (refused ${refused}) / delivered live ${client.liveCount} / recovered by sync ${newlyHeld.length - client.liveCount} / lost ${lost.length}\n`,
      );
      expect(accepted.length).toBeGreaterThan(20);
      expect(lost).toEqual([]);
      // Exactly once after dedupe: every accepted id held once, nothing invented.
      expect(new Set(newlyHeld)).toEqual(new Set(accepted));
    }
  }, 90_000);
});
