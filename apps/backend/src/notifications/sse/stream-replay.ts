import { CURSOR_PATTERN } from '@notify-gateway/contracts';
import { Injectable } from '@nestjs/common';
import type { AuthenticatedUser } from '../../auth/authenticated-user.js';
import { MetricsService } from '../../observability/metrics.service.js';
import { NotificationService } from '../notification.service.js';
import { decodePosition, type Positions } from '../streams/stream-position.js';
import type { SseStream } from './sse-stream.js';

/** A Last-Event-ID is an encoded position; an older client may still send a cursor. */
export const CURSOR_SHAPE = new RegExp(CURSOR_PATTERN);

/** Where a stream starts: after a position, after an old cursor, or at the current heads. */
export type ReplayStart = { position: string } | { cursor: string } | null;

/**
 * Catch-up, then live, for one SSE stream. The stream is already subscribed (holding live
 * events back) when the database is read, so nothing published meanwhile is lost; the held
 * events then pass the stream's per-stream ordering (duplicates dropped, gaps read).
 */
@Injectable()
export class StreamReplay {
  constructor(
    private readonly notifications: NotificationService,
    private readonly metrics: MetricsService,
  ) {}

  /**
   * Where the stream starts, read BEFORE it subscribes: every stream the user reads at its
   * current head, unless the client named a position (or an old cursor) for it. Whatever commits
   * between this read and the subscription is then replayed, so nothing falls in between.
   */
  async startingPositions(user: AuthenticatedUser, start: ReplayStart): Promise<Positions> {
    const positions: Positions = await this.notifications.currentPositions(user);
    if (start && 'position' in start) for (const [name, mark] of decodePosition(start.position, user)) positions.set(name, mark);
    if (start && 'cursor' in start) for (const [name, mark] of await this.notifications.positionsAtCursor(user, start.cursor)) positions.set(name, mark);
    return positions;
  }

  /**
   * Synchronously after the stream opens, before any event can reach it: from here on its ids
   * are positions, and a live offset past a gap (something committed since `positions` was
   * read) is filled from the database.
   */
  attach(stream: SseStream, positions: Positions): void {
    // The session's user as it is at each read: a role or tenant change replaces it.
    stream.track(
      positions,
      (from) => this.notifications.readAfter(stream.session.user, from),
      () => this.notifications.currentPositions(stream.session.user),
    );
  }

  /** Replays what follows `positions` (the stream holds live events meanwhile), then goes live. */
  async run(stream: SseStream, positions: Positions): Promise<void> {
    const user = stream.session.user;
    let written = 0;
    try {
      let from = positions;
      for (;;) {
        const page = await this.notifications.readAfter(user, from);
        if (page.reset.length > 0) stream.announceReset(page.reset, page.positions);
        for (const view of page.items) {
          if (!(await stream.replay(view))) return;
          written += 1;
        }
        if (!page.hasMore || page.items.length === 0) break;
        from = page.positions;
      }
      written += await stream.goLive();
    } finally {
      if (written > 0) this.metrics.notificationsDelivered.inc({ transport: 'sse' }, written);
    }
  }
}
