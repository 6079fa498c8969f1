import { randomUUID } from 'node:crypto';
import { sign } from 'jsonwebtoken';
import { createNotificationClient, type NotificationClient } from '@notify-gateway/client';
import { BalancingProxy } from '../support/balancing-proxy';
import { uniquePrefix } from '../support/redis-server';
import { killAll, ServerProcess } from '../support/server-process';
import { settle } from '../support/sockets';
import { TEST_JWT_SECRET } from '../support/test-app';
import { sql } from '../support/users';

const SHARED_REDIS = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const USER_READERS = 180;
const ADMIN_READERS = 20;
const PUBLISHERS = 2;
/** Pause between one publisher's requests: about 25/s each. */
const PUBLISH_GAP_MS = 40;
/** Connections cut at random every second, beside the restarts. */
const CUTS_PER_SECOND = 3;
/** How long one publish is retried (same Idempotency-Key) before it counts as unrecoverable. */
const PUBLISH_RETRY_BUDGET_MS = 20_000;

interface Reader {
  id: string;
  admin: boolean;
  client?: NotificationClient;
  /** First time each notification id was handed to the application, and how often. */
  handedAt: Map<string, number>;
  handedTwice: number;
  foreign: number;
  /** When the client was connected again (entered `syncing`) after a drop. */
  reconnects: number[];
  downSince?: number;
  longestDownMs: number;
}

interface Accepted {
  id: string;
  stream: string;
  acceptedAt: number;
}

const percentile = (values: number[], q: number): number => {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number);
};

/**
 * The CI-sized churn run (bench/churn/ is the large one): two server processes on one database
 * and Redis behind a round-robin TCP balancer, 200 clients (packages/client), publishers that
 * retry with an Idempotency-Key, connections cut at random all along, and one rolling restart
 * (SIGTERM A, start A, SIGTERM B, start B). Every accepted notification must reach each of its
 * readers exactly once. Timings are printed, not asserted.
 */
describe('rolling restart of two instances under churn, 200 clients', () => {
  let a: ServerProcess;
  let b: ServerProcess;
  let proxy: BalancingProxy;
  let env: Record<string, string>;
  let tenantId: string;
  const readers: Reader[] = [];
  const publisherIds: string[] = [];

  beforeAll(async () => {
    env = {
      REDIS_URL: SHARED_REDIS,
      REDIS_KEY_PREFIX: uniquePrefix('rolling'),
      MAX_CONNECTIONS_PER_IP: '100000',
      CONNECT_RATE_PER_IP: '1000000',
      SHUTDOWN_TIMEOUT_MS: '8000',
    };
    tenantId = randomUUID();
    await sql('INSERT INTO tenants (id, slug, name) VALUES ($1, $2, $3)', [tenantId, `rolling-${tenantId}`, 'Rolling']);
    for (let i = 0; i < USER_READERS + ADMIN_READERS + PUBLISHERS; i += 1) {
      const id = randomUUID();
      const admin = i >= USER_READERS;
      await sql(`INSERT INTO users (id, email, password_hash, role, is_active, tenant_id, updated_at) VALUES ($1, $2, '!', $3, true, $4, now())`, [
        id,
        `rolling-${id}@rolling.test`,
        admin ? 'ADMIN' : 'USER',
        tenantId,
      ]);
      if (i < USER_READERS + ADMIN_READERS) readers.push({ id, admin, handedAt: new Map(), handedTwice: 0, foreign: 0, reconnects: [], longestDownMs: 0 });
      else publisherIds.push(id);
    }
    [a, b] = await Promise.all([ServerProcess.start(env), ServerProcess.start(env)]);
    proxy = await BalancingProxy.start([a.port, b.port]);
  }, 60_000);

  afterAll(async () => {
    for (const reader of readers) reader.client?.close();
    await proxy?.close();
    await Promise.allSettled([a?.stop(), b?.stop()]);
    killAll();
  });

  const tokenOf = (id: string): string => sign({ sub: id }, TEST_JWT_SECRET, { algorithm: 'HS256', expiresIn: 900 });

  function open(reader: Reader): void {
    const userStream = `user:${reader.id}`;
    const tenantStream = `tenant:${tenantId}`;
    reader.client = createNotificationClient({
      url: proxy.url,
      transports: ['websocket'],
      reconnectDelayMaxMs: 5000,
      getToken: () => Promise.resolve(tokenOf(reader.id)),
      onNotification: (notification) => {
        if (notification.stream !== userStream && !(reader.admin && notification.stream === tenantStream)) reader.foreign += 1;
        if (reader.handedAt.has(notification.id)) reader.handedTwice += 1;
        else reader.handedAt.set(notification.id, Date.now());
      },
    });
    let connectedOnce = false;
    reader.client.on('state', (change) => {
      if (change.state === 'reconnecting' && reader.downSince === undefined) reader.downSince = Date.now();
      if (change.state === 'syncing') {
        if (connectedOnce) reader.reconnects.push(Date.now());
        connectedOnce = true;
        if (reader.downSince !== undefined) reader.longestDownMs = Math.max(reader.longestDownMs, Date.now() - reader.downSince);
        reader.downSince = undefined;
      }
    });
  }

  /** One notification, retried with the same key until a 201 (or the budget is spent). */
  async function publishOnce(token: string, key: string, body: Record<string, unknown>, errors: Map<string, number>): Promise<Accepted | undefined> {
    const until = Date.now() + PUBLISH_RETRY_BUDGET_MS;
    for (let attempt = 0; Date.now() < until; attempt += 1) {
      const outcome: { status: number; body: { id?: string; stream?: string }; error?: string } = await fetch(`${proxy.url}/notifications`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(5000),
      }).then(
        async (response) => ({ status: response.status, body: (await response.json().catch(() => ({}))) as { id?: string; stream?: string } }),
        (error: unknown) => ({ status: 0, body: {}, error: error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error) }),
      );
      if (outcome.status === 201 && outcome.body.id && outcome.body.stream) return { id: outcome.body.id, stream: outcome.body.stream, acceptedAt: Date.now() };
      const label = outcome.status === 0 ? `network: ${outcome.error ?? ''}`.slice(0, 60) : `HTTP ${outcome.status}`;
      errors.set(label, (errors.get(label) ?? 0) + 1);
      // A 4xx other than 429 will not get better by retrying.
      if (outcome.status >= 400 && outcome.status < 500 && outcome.status !== 429) return undefined;
      await settle(Math.min(1000, 50 * 2 ** attempt) * (0.5 + Math.random()));
    }
    return undefined;
  }

  it('delivers every accepted notification to each reader exactly once', async () => {
    readers.forEach((reader) => open(reader));
    const liveBy = Date.now() + 30_000;
    while (readers.some((reader) => reader.client?.state !== 'live') && Date.now() < liveBy) await settle(50);
    expect(readers.filter((reader) => reader.client?.state !== 'live').length).toBe(0);

    const accepted: Accepted[] = [];
    const publishErrors = new Map<string, number>();
    let unrecoverable = 0;
    let running = true;
    const publishers = publisherIds.map(async (publisherId, p) => {
      const token = tokenOf(publisherId);
      for (let i = 0; running; i += 1) {
        const tenantWide = i % 8 === 7;
        const target = readers[Math.floor(Math.random() * USER_READERS)] as Reader;
        const body = tenantWide ? { title: `rolling ${p}-${i}`, content: 'c', scope: 'TENANT' } : { title: `rolling ${p}-${i}`, content: 'c', scope: 'USER', userId: target.id };
        const stored = await publishOnce(token, `rolling-${p}-${i}`, body, publishErrors);
        if (stored) accepted.push(stored);
        else unrecoverable += 1;
        await settle(PUBLISH_GAP_MS);
      }
    });
    let cuts = 0;
    const cutter = setInterval(() => (cuts += proxy.cutRandom(CUTS_PER_SECOND)), 1000);

    const phases: string[] = [];
    const restart = async (which: 'A' | 'B'): Promise<void> => {
      const old = which === 'A' ? a : b;
      const startedAt = Date.now();
      const exit = await old.stop(15_000);
      expect(exit).toEqual({ code: 0, signal: null });
      const moved = proxy.counts();
      const fresh = await ServerProcess.start(env, old.port);
      if (which === 'A') a = fresh;
      else b = fresh;
      phases.push(`${which} down→up ${Date.now() - startedAt} ms (connections while down: ${JSON.stringify(moved)})`);
    };
    await settle(4000);
    await restart('A');
    await settle(3000);
    await restart('B');
    await settle(4000);
    running = false;
    await Promise.all(publishers);
    clearInterval(cutter);

    const expectedOf = (reader: Reader): Accepted[] => accepted.filter((n) => n.stream === `user:${reader.id}` || (reader.admin && n.stream === `tenant:${tenantId}`));
    const complete = (): boolean => readers.every((reader) => expectedOf(reader).every((n) => reader.handedAt.has(n.id)));
    const doneBy = Date.now() + 30_000;
    while (!complete() && Date.now() < doneBy) await settle(100);
    await settle(500);

    let expectedCopies = 0;
    let lost = 0;
    let twice = 0;
    let foreign = 0;
    const replayMs: number[] = [];
    for (const reader of readers) {
      const expected = expectedOf(reader);
      expectedCopies += expected.length;
      lost += expected.filter((n) => !reader.handedAt.has(n.id)).length;
      twice += reader.handedTwice;
      foreign += reader.foreign;
      // Replay latency: from a reconnect until the client holds everything accepted before it.
      for (const at of reader.reconnects) {
        const before = expected.filter((n) => n.acceptedAt < at).map((n) => reader.handedAt.get(n.id) ?? Number.POSITIVE_INFINITY);
        replayMs.push(Math.max(0, ...before.map((handed) => handed - at)));
      }
    }
    const finite = replayMs.filter(Number.isFinite);
    const longestDown = Math.max(...readers.map((reader) => reader.longestDownMs));
    process.stdout.write(
      `rolling restart: accepted ${accepted.length} (${expectedCopies} copies to readers), delivered ${expectedCopies - lost} (${(((expectedCopies - lost) / Math.max(1, expectedCopies)) * 100).toFixed(2)} %), ` +
        `lost ${lost}, handed twice ${twice}, foreign ${foreign}; connections cut ${cuts}; reconnects ${replayMs.length}, ` +
        `replay p50 ${percentile(finite, 0.5)} ms p99 ${percentile(finite, 0.99)} ms max ${Math.max(0, ...finite)} ms; longest without a connection ${longestDown} ms; ` +
        `publish errors seen ${JSON.stringify(Object.fromEntries(publishErrors))}, unrecoverable ${unrecoverable}; ${phases.join('; ')}; after: ${JSON.stringify(proxy.counts())}\n`,
    );
    expect(accepted.length).toBeGreaterThan(0);
    expect(foreign).toBe(0);
    expect(lost).toBe(0);
    expect(twice).toBe(0);
  }, 150_000);
});
