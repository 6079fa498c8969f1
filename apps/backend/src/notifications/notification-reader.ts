import { Injectable } from '@nestjs/common';
import type { NotificationView, StreamReset } from '@notify-gateway/contracts';
import { NotificationRepository, type Viewer } from './notification.repository.js';
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

/** Reads by position: each named stream from its own offset, epochs checked. */
@Injectable()
export class NotificationReader {
  constructor(private readonly repository: NotificationRepository) {}

  async after(viewer: Viewer, positions: Positions, limit: number): Promise<PositionedPage> {
    const readable = [...streamsOf(viewer).values()].filter((stream) => positions.has(stream));
    const heads = await this.repository.heads(readable);
    const next: Positions = new Map();
    const reset: StreamReset[] = [];
    const pending: { stream: string; epoch: string; rows: ReadRow[]; more: boolean }[] = [];
    await Promise.all(
      readable.map(async (stream) => {
        const mark = positions.get(stream);
        const head = heads.get(stream);
        if (!mark || !head) return;
        if (mark.epoch !== head.epoch || mark.offset > head.lastOffset) {
          reset.push({ stream, reason: mark.epoch !== head.epoch ? 'EPOCH_CHANGED' : 'AHEAD_OF_STREAM' });
          next.set(stream, { epoch: head.epoch, offset: head.lastOffset });
          return;
        }
        next.set(stream, mark);
        if (mark.offset === head.lastOffset) return;
        const page = await this.repository.streamAfter(viewer, stream, mark.offset, limit);
        pending.push({ stream, epoch: head.epoch, rows: page.rows, more: page.hasMore });
      }),
    );

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
      items.push(toView(row, best.epoch, row.read));
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
    const items = rows.map((row) => toView(row, heads.get(row.stream)?.epoch ?? '', row.read));
    return { items, hasMore, positions, reset: [] };
  }
}

export function describePositions(positions: Positions, viewer: Viewer): { position: string; streams: ReturnType<typeof toList> } {
  return { position: encodePosition(positions, viewer), streams: toList(positions) };
}
