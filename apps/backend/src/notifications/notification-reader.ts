import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { NotificationView, StreamReset, StreamResetReason } from '@notify-gateway/contracts';
import type { AppConfig } from '../config/app-config.js';
import { CatchUpGate } from './catch-up-gate.js';
import { NotificationRepository, type Viewer } from './notification.repository.js';
import { coveredBy, ReadStateRepository, type ReadMarks } from './read-state/read-state.repository.js';
import { toView, type NotificationRow } from './notification.view.js';
import { encodePosition, streamsOf, toList, type Positions } from './streams/stream-position.js';

export interface PositionedPage {
  /** Per stream in offset order; across streams by seq (a stable, readable interleaving). */
  items: NotificationView[];
  hasMore: boolean;
  /** Where the reader stands once it holds `items`: the named streams only. */
  positions: Positions;
  reset: StreamReset[];
}

type ReadRow = NotificationRow & { read: boolean };

/**
 * Reads by position: each named stream from its own offset, epochs checked. Catch-up is bounded
 * and truthful: a reader more than CATCH_UP_MAX behind, or whose next offset is no longer stored
 * (pruned), is told to reset instead of being handed a long or a partial history.
 */
@Injectable()
export class NotificationReader {
  private readonly catchUpMax: bigint;

  constructor(
    private readonly repository: NotificationRepository,
    private readonly readState: ReadStateRepository,
    private readonly gate: CatchUpGate,
    config: ConfigService<AppConfig, true>,
  ) {
    this.catchUpMax = BigInt(config.get('store', { infer: true }).catchUpMax);
  }

  async after(viewer: Viewer, positions: Positions, limit: number): Promise<PositionedPage> {
    const asked = [...streamsOf(viewer).values()].flatMap((stream) => {
      const mark = positions.get(stream);
      return mark ? [{ stream, epoch: mark.epoch, offset: mark.offset }] : [];
    });
    // Heads, watermarks and rows in one statement: a storm of reconnects costs one query each,
    // and the queries take turns.
    const lanes = await this.gate.run(() => this.repository.catchUpPage(viewer, asked, limit, this.catchUpMax));
    const next: Positions = new Map();
    const reset: StreamReset[] = [];
    const pending: { stream: string; epoch: string; rows: ReadRow[]; more: boolean }[] = [];
    const marks: ReadMarks = new Map();
    for (const { stream, epoch, offset } of asked) {
      const lane = lanes.get(stream);
      if (!lane) continue;
      const head = lane.head;
      const voided = (reason: StreamResetReason): void => {
        reset.push({ stream, reason });
        next.set(stream, { epoch: head.epoch, offset: head.lastOffset });
      };
      if (epoch !== head.epoch) voided('EPOCH_CHANGED');
      else if (offset > head.lastOffset) voided('AHEAD_OF_STREAM');
      else if (head.lastOffset - offset > this.catchUpMax) voided('TOO_FAR_BEHIND');
      else if (offset === head.lastOffset) next.set(stream, { epoch, offset });
      // Offsets are dense, and offset N+1 is visible once N is: the rows read must run on from
      // the mark without a hole. A hole means rows were pruned (judged on the very rows handed
      // out, so a prune racing this read cannot slip a partial history through).
      else if (lane.rows.length === 0 || !lane.rows.every((row, index) => row.streamOffset === offset + 1n + BigInt(index))) voided('PRUNED');
      else {
        next.set(stream, { epoch, offset });
        if (lane.readOffset !== undefined) marks.set(stream, lane.readOffset);
        pending.push({ stream, epoch: head.epoch, rows: lane.rows, more: lane.hasMore });
      }
    }

    // Read: a read row, or at or below the reader's watermark (read in the rows' snapshot).
    // k-way merge by seq: what is taken of each stream is always a prefix of it.
    const items: NotificationView[] = [];
    while (items.length < limit) {
      let best: (typeof pending)[number] | undefined;
      for (const lane of pending) {
        const head = lane.rows[0];
        if (head && (!best || head.seq < (best.rows[0] as ReadRow).seq)) best = lane;
      }
      if (!best) break;
      const row = best.rows.shift() as ReadRow;
      items.push(toView(row, best.epoch, row.read || coveredBy(marks, row)));
      next.set(best.stream, { epoch: best.epoch, offset: row.streamOffset });
    }
    const hasMore = pending.some((lane) => lane.rows.length > 0 || lane.more);
    reset.sort((a, b) => (a.stream < b.stream ? -1 : 1));
    return { items, hasMore, positions: next, reset };
  }

  /** The old cursor as a position: each stream at its last offset at or below the cursor. */
  async positionsAtCursor(viewer: Viewer, cursor: string): Promise<Positions> {
    const streams = [...streamsOf(viewer).values()];
    const [heads, offsets] = await Promise.all([this.repository.heads(streams), this.repository.offsetsAtCursor(streams, cursor)]);
    const positions: Positions = new Map();
    for (const stream of streams) {
      const head = heads.get(stream);
      if (head) positions.set(stream, { epoch: head.epoch, offset: offsets.get(stream) ?? 0n });
    }
    return positions;
  }

  /** Newest first, and the current position of every stream the viewer reads (one snapshot). */
  async latest(viewer: Viewer, limit: number): Promise<PositionedPage> {
    const streams = [...streamsOf(viewer).values()];
    const { rows, hasMore, heads } = await this.repository.listLatest(viewer, streams, limit);
    const positions: Positions = new Map();
    for (const stream of streams) {
      const head = heads.get(stream);
      if (head) positions.set(stream, { epoch: head.epoch, offset: head.lastOffset });
    }
    const marked = await this.readState.withMarks(viewer, rows);
    const items = marked.map((row) => toView(row, heads.get(row.stream)?.epoch ?? '', row.read));
    return { items, hasMore, positions, reset: [] };
  }
}

export function describePositions(positions: Positions, viewer: Viewer): { position: string; streams: ReturnType<typeof toList> } {
  return { position: encodePosition(positions, viewer), streams: toList(positions) };
}
