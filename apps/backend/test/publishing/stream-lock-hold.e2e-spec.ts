import { Client } from 'pg';
import { MetricsService } from '../../src/observability/metrics.service';
import { NotificationService } from '../../src/notifications/notification.service';
import { uniqueTitle } from '../support/http';
import { settle } from '../support/sockets';
import { startApp, type RunningApp } from '../support/test-app';
import { demoUser } from '../support/users';

/**
 * notify_stream_lock_hold_seconds is timed inside PostgreSQL: from the group statement's first
 * stream row lock granted to the end of its work, foreign-key checks included. So waiting for the
 * lock is not counted, and everything the statement does while holding it is.
 */
describe('stream-lock hold metric', () => {
  let app: RunningApp;
  let service: NotificationService;
  let metrics: MetricsService;
  let userId: string;
  let other: Client;

  beforeAll(async () => {
    app = await startApp();
    service = app.app.get(NotificationService);
    metrics = app.app.get(MetricsService);
    userId = (await demoUser('user@acme.test')).id;
    // The stream row exists from here on, so it can be locked by another transaction.
    await service.sendToUser(userId, { title: uniqueTitle('hold'), content: 'first' });
    other = new Client({ connectionString: process.env.TEST_DATABASE_URL });
    await other.connect();
  });
  afterAll(async () => {
    await other.end();
    await app.close();
  });

  const observed = async (): Promise<{ count: number; sum: number }> => {
    const { values } = await metrics.streamLockHold.get();
    const value = (name: string): number => values.find((v) => v.metricName === name)?.value ?? 0;
    return { count: value('notify_stream_lock_hold_seconds_count'), sum: value('notify_stream_lock_hold_seconds_sum') };
  };

  /** Publishes once while `lock` is held by another transaction for `ms`; the JS-side duration and the hold it reported. */
  const publishWhileLocked = async (lock: string, ms: number): Promise<{ elapsedMs: number; holdMs: number }> => {
    const before = await observed();
    await other.query('BEGIN');
    try {
      await other.query(lock, [userId]);
      const started = Date.now();
      const published = service.sendToUser(userId, { title: uniqueTitle('hold'), content: 'held' });
      await settle(ms);
      await other.query('COMMIT');
      await published;
      const after = await observed();
      expect(after.count - before.count).toBe(1);
      return { elapsedMs: Date.now() - started, holdMs: (after.sum - before.sum) * 1000 };
    } catch (error) {
      await other.query('ROLLBACK');
      throw error;
    }
  };

  it('does not count the wait for the stream row lock (a timer around the statement would)', async () => {
    const { elapsedMs, holdMs } = await publishWhileLocked("SELECT 1 FROM notification_streams WHERE stream = 'user:' || $1 FOR UPDATE", 400);
    expect(elapsedMs).toBeGreaterThanOrEqual(400);
    expect(holdMs).toBeGreaterThan(0);
    expect(holdMs).toBeLessThan(200);
  });

  it('counts what the statement does while it holds the lock, the foreign-key checks included', async () => {
    // The recipient's row locked FOR UPDATE: the statement's foreign-key check (FOR KEY SHARE on
    // users) waits for it after the stream row is locked, so the stream stays locked meanwhile.
    const { elapsedMs, holdMs } = await publishWhileLocked('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', 400);
    expect(elapsedMs).toBeGreaterThanOrEqual(400);
    // Of the 400 ms the blocker holds, the part after the stream row lock is granted: the request's
    // own way to the database comes first (a CI run measured 319 ms). 200 ms is the line the test
    // above draws for a wait that is not counted.
    expect(holdMs).toBeGreaterThanOrEqual(200);
    expect(holdMs).toBeLessThanOrEqual(elapsedMs);
  });
});
