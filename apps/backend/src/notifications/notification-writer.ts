import { Injectable } from '@nestjs/common';
import type { NotificationScope, NotificationView } from '@notify-gateway/contracts';
import { GROUP_COMMITS_IN_FLIGHT } from '../core/prisma/prisma.service.js';
import { MetricsService } from '../observability/metrics.service.js';
import { NotificationFanout } from './notification-fanout.js';
import { NotificationRepository, type PreparedNotification, type StoredNotification } from './notification.repository.js';
import { toView } from './notification.view.js';

/** Most rows one group statement carries; further requests wait for the next group. */
const MAX_GROUP_ROWS = 1000;

interface Request {
  items: PreparedNotification[];
  /** The streams its items go to. */
  streams: string[];
  submittedAt: bigint;
  resolve(stored: (NotificationView | null)[]): void;
  reject(error: unknown): void;
}

/**
 * Group commit, per instance: requests queue and go together in one statement; up to
 * GROUP_COMMITS_IN_FLIGHT statements run at once, on disjoint streams. Whatever the streams
 * serialise on is paid per group, not per notification.
 *
 * Order: a stream has at most one group in flight on this instance, so its groups commit in the
 * order they were sent and a later request for it never overtakes an earlier one. (Another
 * instance's group on the same stream waits for the row lock instead.) Committed groups are
 * emitted one after the other in the order they committed, each in offset order per stream: the
 * emits of one stream leave this instance in offset order.
 */
@Injectable()
export class NotificationWriter {
  private queue: Request[] = [];
  /** Streams with a group in flight: requests for them wait until it has committed. */
  private readonly busy = new Set<string>();
  private inFlight = 0;
  private dispatchScheduled = false;
  /** The emits of committed groups, one after the other (never rejects). */
  private emitting: Promise<void> = Promise.resolve();

  constructor(
    private readonly repository: NotificationRepository,
    private readonly fanout: NotificationFanout,
    private readonly metrics: MetricsService,
  ) {}

  /**
   * Stores `items` (in one transaction with whatever else is in the group), emits them, and
   * resolves with each stored notification as emitted, in item order; null where the
   * idempotency key was taken. The views are the emitted payloads: copy before changing one.
   */
  write(items: PreparedNotification[]): Promise<(NotificationView | null)[]> {
    if (items.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.queue.push({ items, streams: [...new Set(items.map((item) => item.stream))], submittedAt: process.hrtime.bigint(), resolve, reject });
      this.scheduleDispatch();
    });
  }

  /**
   * Groups are cut once per event-loop turn: the requests that became ready in one turn share a
   * statement instead of taking one each (the statement count is what costs under load).
   */
  private scheduleDispatch(): void {
    if (this.dispatchScheduled) return;
    this.dispatchScheduled = true;
    setImmediate(() => {
      this.dispatchScheduled = false;
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.inFlight < GROUP_COMMITS_IN_FLIGHT && this.queue.length > 0) {
      const group = this.nextGroup();
      if (group.length === 0) return;
      const streams = new Set(group.flatMap((request) => request.streams));
      for (const stream of streams) this.busy.add(stream);
      this.inFlight += 1;
      void this.run(group).finally(() => {
        for (const stream of streams) this.busy.delete(stream);
        this.inFlight -= 1;
        if (this.queue.length > 0) this.scheduleDispatch();
      });
    }
  }

  /** Stores one group and queues its emits; never rejects (each request hears its own outcome). */
  private async run(group: Request[]): Promise<void> {
    try {
      this.emitAfter(group, await this.store(group));
    } catch (error) {
      if (group.length === 1) {
        group[0]?.reject(error);
        return;
      }
      // One bad request must not fail the others that shared its statement. Its streams stay
      // busy meanwhile, so no later request of theirs overtakes these.
      for (const request of group) {
        await this.store([request]).then(
          (rows) => this.emitAfter([request], rows),
          (alone: unknown) => request.reject(alone),
        );
      }
    }
  }

  /**
   * The oldest requests whose streams have no group in flight, up to MAX_GROUP_ROWS. A request
   * that has to wait also holds back every later request sharing a stream with it, so requests
   * for one stream are stored in arrival order.
   */
  private nextGroup(): Request[] {
    const group: Request[] = [];
    const waiting: Request[] = [];
    const blocked = new Set(this.busy);
    let rows = 0;
    let index = 0;
    for (; index < this.queue.length; index++) {
      const request = this.queue[index] as Request;
      if (request.streams.some((stream) => blocked.has(stream))) {
        for (const stream of request.streams) blocked.add(stream);
        waiting.push(request);
        continue;
      }
      if (group.length > 0 && rows + request.items.length > MAX_GROUP_ROWS) break;
      group.push(request);
      rows += request.items.length;
    }
    this.queue = waiting.concat(this.queue.slice(index));
    return group;
  }

  /** One statement, one transaction: the group is committed when this resolves. */
  private async store(group: Request[]): Promise<StoredNotification[]> {
    const items = dedupeKeys(group.flatMap((request) => request.items));
    const { rows, lockHoldSeconds } = await this.repository.insertGroup(items);
    // The database's own measure: a timer here would add this process's event-loop lag, which
    // comes after the row locks are released.
    if (lockHoldSeconds !== null) this.metrics.streamLockHold.observe(lockHoldSeconds);
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
    // The view emitted is the one the request answers with: built once per row, not twice.
    const views = new Map<string, NotificationView>();
    const published = new Map<NotificationScope, number>();
    for (const [index, row] of rows.entries()) {
      // An HTTP response flushes its writes on the next tick, so a whole group written in one tick
      // would look like a stalled SSE reader: a tick between emits. Not a turn of the event loop:
      // under load a turn runs every pending request's callbacks, and the k-th emit of a group
      // would wait k of them.
      if (index > 0) await nextTick();
      const view = toView(row, row.epoch);
      views.set(row.id, view);
      this.fanout.publish(row.stream, 'notification:new', view);
      published.set(row.scope, (published.get(row.scope) ?? 0) + 1);
    }
    // Once per scope and group: a labelled counter's inc costs a label lookup each time.
    for (const [scope, count] of published) this.metrics.notificationsPublished.inc({ scope }, count);
    const emittedAt = process.hrtime.bigint();
    for (const request of group) {
      this.metrics.publishLatency.observe(Number(emittedAt - request.submittedAt) / 1e9);
      request.resolve(request.items.map((item) => views.get(item.id) ?? null));
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

/** Resolves after the ticks already queued (an HTTP response's flush among them) have run. */
function nextTick(): Promise<void> {
  return new Promise((resolve) => process.nextTick(resolve));
}

function compare(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
