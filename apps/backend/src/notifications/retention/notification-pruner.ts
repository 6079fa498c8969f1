import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Client } from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { IDEMPOTENCY_WINDOW_HOURS } from '@notify-gateway/contracts';
import type { AppConfig } from '../../config/app-config.js';
import { schemaScope } from '../../core/prisma/prisma.service.js';
import { MetricsService } from '../../observability/metrics.service.js';

/** First key of the pruner's advisory lock (the second is the schema's hash); Prisma's is 72707369. */
const PRUNE_LOCK_KEY = 72707370;
/** User streams examined per per-user-cap statement. */
const CAP_STREAMS_PER_STATEMENT = 100;
/** Breath between two statements, so publishing and catch-up are never queued behind a run. */
const PAUSE_BETWEEN_BATCHES_MS = 5;

export type PruneReason = 'retention' | 'user_cap' | 'idempotency_keys';

export interface PruneResult {
  /** False when another instance held the lock: this one did nothing. */
  ran: boolean;
  deleted: Record<PruneReason, number>;
  /** When the lock was taken and when it was about to be let go (ms); both "now" when skipped. */
  startedAt: number;
  finishedAt: number;
}

/**
 * Deletes what is past the retention horizon (NOTIFICATION_RETENTION_DAYS), over the per-user cap
 * (NOTIFICATION_MAX_PER_USER) and idempotency keys past their window, in small batches, each its
 * own short autocommit statement. Read state goes with its notification (FK ON DELETE CASCADE).
 *
 * One instance at a time across the cluster: a run holds a session-level PostgreSQL advisory lock
 * (`pg_try_advisory_lock`) on a connection of its own; another instance's try fails and it skips.
 * The lock lives in the database being pruned, so it needs no Redis (single-instance mode has
 * none) and dies with the connection: a crashed pruner frees it at once, with no lease to expire.
 *
 * Deleting never touches `notification_streams`, so it takes none of the row locks publishers
 * serialise on; readers judge a pruned history from the rows themselves (dense offsets, see
 * NotificationReader), so no low-water mark has to be kept in step.
 */
@Injectable()
export class NotificationPruner implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(NotificationPruner.name);
  private readonly settings: AppConfig['store'];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<PruneResult> | undefined;
  private stopped = false;

  constructor(
    private readonly config: ConfigService<AppConfig, true>,
    private readonly metrics: MetricsService,
  ) {
    this.settings = config.get('store', { infer: true });
  }

  onApplicationBootstrap(): void {
    this.schedule();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One run now (the timer calls it too); concurrent calls on one instance share the run. */
  runOnce(): Promise<PruneResult> {
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    // Jittered, so instances started together do not all try the lock at the same moment.
    const delay = this.settings.pruneIntervalSec * 1000 * (0.75 + Math.random() * 0.5);
    this.timer = setTimeout(() => {
      this.runOnce()
        .catch((error: unknown) => this.logger.error({ msg: 'prune run failed', error: error instanceof Error ? error.message : String(error) }))
        .finally(() => this.schedule());
    }, delay);
    this.timer.unref();
  }

  private async run(): Promise<PruneResult> {
    const deleted: Record<PruneReason, number> = { retention: 0, user_cap: 0, idempotency_keys: 0 };
    const client = new Client({ connectionString: this.config.get('databaseUrl', { infer: true }), ...schemaScope(this.config.get('databaseSchema', { infer: true })) });
    const end = this.metrics.pruneDuration.startTimer();
    try {
      await client.connect();
      const lock = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, hashtext(current_schema())) AS locked', [PRUNE_LOCK_KEY]);
      if (!lock.rows[0]?.locked) {
        this.metrics.pruneRuns.inc({ outcome: 'skipped' });
        return { ran: false, deleted, startedAt: Date.now(), finishedAt: Date.now() };
      }
      const startedAt = Date.now();
      let finishedAt = startedAt;
      try {
        deleted.retention = await this.batches(() => this.pruneRetention(client), 'retention');
        if (this.settings.maxPerUser > 0) deleted.user_cap = await this.pruneUserCap(client);
        deleted.idempotency_keys = await this.batches(() => this.pruneKeys(client), 'idempotency_keys');
      } finally {
        finishedAt = Date.now();
        await client.query('SELECT pg_advisory_unlock($1, hashtext(current_schema()))', [PRUNE_LOCK_KEY]);
      }
      this.metrics.pruneRuns.inc({ outcome: 'ran' });
      this.metrics.pruneLastRun.set(Date.now() / 1000);
      end();
      return { ran: true, deleted, startedAt, finishedAt };
    } catch (error) {
      this.metrics.pruneRuns.inc({ outcome: 'failed' });
      throw error;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /** Repeats one batch statement until it deletes less than a full batch (or the app stops). */
  private async batches(batch: () => Promise<number>, reason: PruneReason): Promise<number> {
    let total = 0;
    for (;;) {
      const count = await batch();
      total += count;
      if (count > 0) this.metrics.pruneRows.inc({ reason }, count);
      if (count < this.settings.pruneBatchSize || this.stopped) return total;
      await sleep(PAUSE_BETWEEN_BATCHES_MS);
    }
  }

  /** The oldest rows past the horizon, by the created_at index; reads cascade with them. */
  private async pruneRetention(client: Client): Promise<number> {
    const result = await client.query(
      `WITH doomed AS (
         SELECT id FROM notifications WHERE created_at < now() - make_interval(days => $1::int)
         ORDER BY created_at LIMIT $2::int)
       DELETE FROM notifications n USING doomed d WHERE n.id = d.id`,
      [this.settings.retentionDays, this.settings.pruneBatchSize],
    );
    return result.rowCount ?? 0;
  }

  /**
   * Per user stream, everything below its last `maxPerUser` offsets. Streams are walked by name,
   * CAP_STREAMS_PER_STATEMENT at a time; a page that filled a batch is tried again before moving on.
   */
  private async pruneUserCap(client: Client): Promise<number> {
    let after = '';
    let total = 0;
    while (!this.stopped) {
      const result = await client.query<{ last: string | null; deleted: string }>(
        `WITH page AS (
           SELECT stream, last_offset - $1::bigint AS upto FROM notification_streams
           WHERE stream > $2 AND stream LIKE 'user:%' AND last_offset > $1::bigint
           ORDER BY stream LIMIT ${CAP_STREAMS_PER_STATEMENT}),
         doomed AS (
           SELECT n.id FROM page p CROSS JOIN LATERAL (
             SELECT id FROM notifications WHERE stream = p.stream AND stream_offset <= p.upto ORDER BY stream_offset LIMIT $3::int) n
           LIMIT $3::int),
         deleted AS (DELETE FROM notifications n USING doomed d WHERE n.id = d.id RETURNING 1)
         SELECT (SELECT max(stream) FROM page) AS last, (SELECT count(*) FROM deleted) AS deleted`,
        [this.settings.maxPerUser, after, this.settings.pruneBatchSize],
      );
      const row = result.rows[0];
      const count = Number(row?.deleted ?? 0);
      total += count;
      if (count > 0) this.metrics.pruneRows.inc({ reason: 'user_cap' }, count);
      if (count < this.settings.pruneBatchSize) {
        if (!row?.last) return total;
        after = row.last;
      }
      await sleep(PAUSE_BETWEEN_BATCHES_MS);
    }
    return total;
  }

  /** Idempotency claims past their window answer nothing any more. */
  private async pruneKeys(client: Client): Promise<number> {
    const result = await client.query(
      `WITH doomed AS (
         SELECT publisher, key FROM notification_idempotency_keys
         WHERE created_at < now() - make_interval(hours => $1::int) ORDER BY created_at LIMIT $2::int)
       DELETE FROM notification_idempotency_keys k USING doomed d WHERE k.publisher = d.publisher AND k.key = d.key`,
      [IDEMPOTENCY_WINDOW_HOURS, this.settings.pruneBatchSize],
    );
    return result.rowCount ?? 0;
  }
}
