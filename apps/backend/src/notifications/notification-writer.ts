import { Injectable } from '@nestjs/common';
import { MetricsService } from '../observability/metrics.service.js';
import { NotificationFanout } from './notification-fanout.js';
import { NotificationRepository, type PreparedNotification, type StoredNotification } from './notification.repository.js';
import { toView } from './notification.view.js';

/** Most rows one group statement carries; further requests wait for the next group. */
const MAX_GROUP_ROWS = 1000;

interface Request {
  items: PreparedNotification[];
  submittedAt: bigint;
  resolve(stored: (StoredNotification | null)[]): void;
  reject(error: unknown): void;
}

/**
 * Group commit, per instance: while one group's statement is in flight, the requests that
 * arrive meanwhile queue and go together in the next one. Whatever the streams serialise on is
 * paid per group, not per notification. After commit, each group is emitted in offset order per
 * stream; groups are emitted in the order they committed, while the next group's statement runs.
 */
@Injectable()
export class NotificationWriter {
  private readonly queue: Request[] = [];
  private flushing = false;
  /** The emits of committed groups, one after the other (never rejects). */
  private emitting: Promise<void> = Promise.resolve();

  constructor(
    private readonly repository: NotificationRepository,
    private readonly fanout: NotificationFanout,
    private readonly metrics: MetricsService,
  ) {}

  /**
   * Stores `items` (in one transaction with whatever else is in the group), emits them, and
   * resolves with each stored row in item order; null where the idempotency key was taken.
   */
  write(items: PreparedNotification[]): Promise<(StoredNotification | null)[]> {
    if (items.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.queue.push({ items, submittedAt: process.hrtime.bigint(), resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const group = this.nextGroup();
        try {
          this.emitAfter(group, await this.store(group));
        } catch (error) {
          if (group.length === 1) group[0]?.reject(error);
          // One bad request must not fail the others that shared its statement.
          else {
            for (const request of group) {
              await this.store([request]).then(
                (rows) => this.emitAfter([request], rows),
                (alone: unknown) => request.reject(alone),
              );
            }
          }
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private nextGroup(): Request[] {
    const group: Request[] = [];
    let rows = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0] as Request;
      if (group.length > 0 && rows + next.items.length > MAX_GROUP_ROWS) break;
      group.push(next);
      rows += next.items.length;
      this.queue.shift();
    }
    return group;
  }

  /** One statement, one transaction: the group is committed when this resolves. */
  private async store(group: Request[]): Promise<StoredNotification[]> {
    const items = dedupeKeys(group.flatMap((request) => request.items));
    const started = process.hrtime.bigint();
    const rows = await this.repository.insertGroup(items);
    this.metrics.streamLockHold.observe(Number(process.hrtime.bigint() - started) / 1e9);
    this.metrics.batchNotifications.inc(rows.length);
    return rows;
  }

  /** Queues the group's emits behind those of the groups committed before it. */
  private emitAfter(group: Request[], rows: StoredNotification[]): void {
    this.emitting = this.emitting.then(() =>
      this.emit(group, rows).catch((error: unknown) => {
        for (const request of group) request.reject(error);
      }),
    );
  }

  /** Delivers a committed group in offset order per stream, then answers its requests. */
  private async emit(group: Request[], rows: StoredNotification[]): Promise<void> {
    rows.sort((a, b) => (a.stream === b.stream ? compare(a.streamOffset, b.streamOffset) : a.stream < b.stream ? -1 : 1));
    for (const [index, row] of rows.entries()) {
      // A turn of the event loop between emits: an HTTP response flushes its writes on the next
      // tick, so a whole group written in one tick would look like a stalled SSE reader.
      if (index > 0) await nextTurn();
      this.fanout.publish(row.stream, 'notification:new', toView(row, row.epoch));
      this.metrics.notificationsPublished.inc({ scope: row.scope });
    }
    const byId = new Map(rows.map((row) => [row.id, row]));
    const emittedAt = process.hrtime.bigint();
    for (const request of group) {
      this.metrics.publishLatency.observe(Number(emittedAt - request.submittedAt) / 1e9);
      request.resolve(request.items.map((item) => byId.get(item.id) ?? null));
    }
  }
}

/** Two items with one (publisher, key) in a group: only the first is offered for storing. */
function dedupeKeys(items: PreparedNotification[]): PreparedNotification[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    if (!item.idempotency) return true;
    const id = `${item.idempotency.publisher}\u0000${item.idempotency.key}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function compare(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
