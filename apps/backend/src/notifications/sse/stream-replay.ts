import { Injectable } from '@nestjs/common';
import { MetricsService } from '../../observability/metrics.service.js';
import { NotificationService } from '../notification.service.js';
import type { SseStream } from './sse-stream.js';

/** A Last-Event-ID is a notification cursor: a decimal bigint. */
export const CURSOR_SHAPE = /^\d{1,19}$/;

/**
 * Last-Event-ID catch-up. The stream is already subscribed (holding live events back) when
 * the database is read, so nothing published meanwhile is lost; what the replay already sent
 * is skipped when the held-back events are flushed.
 */
@Injectable()
export class StreamReplay {
  constructor(
    private readonly notifications: NotificationService,
    private readonly metrics: MetricsService,
  ) {}

  async run(stream: SseStream, after: string): Promise<void> {
    let cursor = after;
    // Cursors commit in order (see NotificationRepository.create): at or below the highest
    // one replayed, everything visible was replayed.
    let replayedUpTo = BigInt(after);
    let written = 0;
    try {
      for (;;) {
        const page = await this.notifications.sync(stream.session.user, cursor);
        for (const view of page.items) {
          if (!(await stream.replay(view))) return;
          written += 1;
          const seq = BigInt(view.cursor);
          if (seq > replayedUpTo) replayedUpTo = seq;
        }
        if (!page.hasMore || page.items.length === 0 || page.cursor === null) break;
        cursor = page.cursor;
      }
      written += await stream.goLive(replayedUpTo);
    } finally {
      if (written > 0) this.metrics.notificationsDelivered.inc({ transport: 'sse' }, written);
    }
  }
}
