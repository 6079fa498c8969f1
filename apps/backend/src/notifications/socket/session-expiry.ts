/** How often due sessions are looked for: a token's `exp` has whole seconds, so one sweep per second is on time. */
export const EXPIRY_SWEEP_MS = 1000;

/**
 * The sessions that end when their token's `exp` (seconds) passes, bucketed by that second and
 * swept by one timer for all of them: a timer, a closure and its context per socket were a
 * fifth of what an idle socket held beyond bare socket.io (docs/BENCHMARKS.md, heap-snapshot diff).
 */
export class SessionExpiry<Session extends object> {
  /** The caller knows each session's `exp` (a socket's is on its token), so nothing is kept per session beyond its bucket entry. */
  private readonly due = new Map<number, Set<Session>>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly onExpired: (session: Session) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Starts the session's clock at `expSec`; to move it, cancel it at the old `exp` first. */
  schedule(session: Session, expSec: number): void {
    let bucket = this.due.get(expSec);
    if (!bucket) this.due.set(expSec, (bucket = new Set()));
    bucket.add(session);
    if (!this.timer) {
      this.timer = setInterval(() => this.sweep(), EXPIRY_SWEEP_MS);
      this.timer.unref();
    }
  }

  /** `expSec`: the one it was scheduled at. */
  cancel(session: Session, expSec: number): void {
    const bucket = this.due.get(expSec);
    bucket?.delete(session);
    if (bucket?.size === 0) this.due.delete(expSec);
  }

  /** Ends every session whose `exp` has passed; the timer stops when none is left. */
  sweep(): void {
    const nowSec = this.now() / 1000;
    for (const [expSec, bucket] of this.due) {
      if (expSec > nowSec) continue;
      this.due.delete(expSec);
      for (const session of bucket) this.onExpired(session);
    }
    if (this.due.size === 0) this.stop();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  get size(): number {
    let sessions = 0;
    for (const bucket of this.due.values()) sessions += bucket.size;
    return sessions;
  }
}
