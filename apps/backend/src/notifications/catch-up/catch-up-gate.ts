/**
 * At most `limit` catch-up reads at once on this instance; the rest wait in arrival order.
 *
 * Why: after a restart thousands of clients sync within seconds, each read taking one or more
 * connections of the instance's pool (20). Unbounded, they fill the pool's own FIFO queue and a
 * publish's group commit waits behind all of them: publishes time out while reads pile up.
 * Bounded, catch-ups queue here, in memory, and the pool keeps connections for writes and
 * handshake lookups. Reads are not shared per (stream, position): each one carries the viewer's
 * own read flags, and a queue needs no knowledge of what is being read.
 */
export class CatchUpGate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private peakActiveSeen = 0;
  private peakWaitingSeen = 0;

  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('limit must be a positive integer');
  }

  async run<T>(read: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) {
      await new Promise<void>((resolve) => {
        this.waiting.push(resolve);
        this.peakWaitingSeen = Math.max(this.peakWaitingSeen, this.waiting.length);
      });
    } else {
      this.active += 1;
    }
    this.peakActiveSeen = Math.max(this.peakActiveSeen, this.active);
    try {
      return await read();
    } finally {
      // The slot passes straight to the next waiter: `active` does not change.
      const next = this.waiting.shift();
      if (next) next();
      else this.active -= 1;
    }
  }

  /** Reads running and waiting right now, and the most of each seen since start. */
  get stats(): { active: number; waiting: number; peakActive: number; peakWaiting: number } {
    return { active: this.active, waiting: this.waiting.length, peakActive: this.peakActiveSeen, peakWaiting: this.peakWaitingSeen };
  }
}
