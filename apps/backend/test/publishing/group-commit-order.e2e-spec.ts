import { NotificationFanout } from '../../src/notifications/notification-fanout';
import { NotificationService } from '../../src/notifications/notification.service';
import { NotificationRepository, type PreparedNotification } from '../../src/notifications/notification.repository';
import { uniqueTitle } from '../support/http';
import { settle } from '../support/sockets';
import { startApp, type RunningApp } from '../support/test-app';
import { demoUsers, sql } from '../support/users';

/**
 * The group-commit writer runs several group statements at once. What it must keep: groups in
 * flight never share a stream, a request for a stream whose group is still in flight waits for
 * it (and never overtakes it), and each stream's emits leave in offset order, offsets dense.
 * Only timing is changed here: the repository's statement is observed and, once, held back.
 */
describe('group commit with several statements in flight', () => {
  let app: RunningApp;
  let service: NotificationService;
  let userIds: string[];
  let tenantId: string;
  /** The streams of each statement running right now. */
  const running = new Set<Set<string>>();
  let maxRunning = 0;
  let sharedStream = false;
  let holdNext: Promise<void> | null = null;
  const emitted: { stream: string; offset: bigint }[] = [];

  beforeAll(async () => {
    app = await startApp();
    service = app.app.get(NotificationService);
    const users = await demoUsers();
    userIds = [...users.values()].map((user) => user.id);
    tenantId = (users.get('admin@acme.test') as { tenantId: string }).tenantId;

    const repository = app.app.get(NotificationRepository);
    const insertGroup = repository.insertGroup.bind(repository);
    repository.insertGroup = async (items: PreparedNotification[]) => {
      const streams = new Set(items.map((item) => item.stream));
      for (const other of running) if ([...streams].some((stream) => other.has(stream))) sharedStream = true;
      running.add(streams);
      maxRunning = Math.max(maxRunning, running.size);
      try {
        const held = holdNext;
        holdNext = null;
        if (held) await held;
        return await insertGroup(items);
      } finally {
        running.delete(streams);
      }
    };
    const fanout = app.app.get(NotificationFanout);
    const publish = fanout.publish.bind(fanout);
    fanout.publish = ((...args: Parameters<NotificationFanout['publish']>) => {
      const payload = args[2] as { stream?: string; offset?: string };
      if (args[1] === 'notification:new' && payload.stream && payload.offset) emitted.push({ stream: payload.stream, offset: BigInt(payload.offset) });
      publish(...args);
    }) as NotificationFanout['publish'];
  });
  afterAll(async () => {
    await app.close();
  });

  it('runs groups on disjoint streams at once; per stream the emits are dense and in offset order', async () => {
    emitted.length = 0;
    const title = uniqueTitle('group-order');
    const sends: Promise<unknown>[] = [];
    for (let round = 0; round < 40; round++) {
      for (const userId of userIds) sends.push(service.sendToUser(userId, { title, content: `r${round}` }));
      sends.push(service.sendToTenant(tenantId, { title, content: `t${round}` }));
      if (round % 5 === 0) {
        sends.push(service.sendMany(userIds.map((userId) => ({ scope: 'USER' as const, userId, title, content: `m${round}` }))));
        // Let some statements start while more requests arrive.
        await settle(1);
      }
    }
    await Promise.all(sends);

    // Whether groups overlap here depends on timing; that they do is shown by the next test,
    // which holds a statement in flight.
    expect(sharedStream).toBe(false);
    const byStream = new Map<string, bigint[]>();
    for (const { stream, offset } of emitted) byStream.set(stream, [...(byStream.get(stream) ?? []), offset]);
    expect(byStream.size).toBe(userIds.length + 1);
    for (const [stream, offsets] of byStream) {
      // Emitted in offset order, one after the other: no gap, no repeat, nothing out of order.
      const first = offsets[0] as bigint;
      expect({ stream, offsets }).toEqual({ stream, offsets: offsets.map((_, i) => first + BigInt(i)) });
    }
    // And so are the rows: this run's rows of each stream are a dense run of offsets.
    const rows = await sql<{ stream: string; n: number; lo: string; hi: string }>(
      'SELECT stream, count(*)::int AS n, min(stream_offset)::text AS lo, max(stream_offset)::text AS hi FROM notifications WHERE title = $1 GROUP BY stream',
      [title],
    );
    for (const row of rows) expect(BigInt(row.hi) - BigInt(row.lo) + 1n).toBe(BigInt(row.n));
    expect(rows.reduce((n, row) => n + row.n, 0)).toBe(40 * (userIds.length + 1) + 8 * userIds.length);
  });

  it('a request for a stream whose group is in flight waits for it; another stream does not', async () => {
    const [first, second] = userIds as [string, string];
    const title = uniqueTitle('group-wait');
    let release = (): void => undefined;
    holdNext = new Promise<void>((resolve) => (release = resolve));
    const order: string[] = [];
    const held = service.sendToUser(first, { title, content: 'held' }).then((view) => (order.push('held'), view));
    await settle(50);
    const sameStream = service.sendToUser(first, { title, content: 'same stream' }).then((view) => (order.push('same'), view));
    maxRunning = 0;
    const otherStream = service.sendToUser(second, { title, content: 'other stream' }).then((view) => (order.push('other'), view));
    await otherStream;
    // The other stream's statement ran while the held one was still in flight.
    expect(maxRunning).toBeGreaterThan(1);
    await settle(100);
    // The later request for the held stream is neither stored nor answered while its stream is busy.
    expect(order).toEqual(['other']);
    expect((await sql<{ n: number }>('SELECT count(*)::int AS n FROM notifications WHERE title = $1 AND user_id = $2', [title, first]))[0]?.n).toBe(0);
    release();
    const [heldView, sameView] = await Promise.all([held, sameStream]);
    expect(order).toEqual(['other', 'held', 'same']);
    expect(BigInt(sameView.offset)).toBe(BigInt(heldView.offset) + 1n);
  });
});
