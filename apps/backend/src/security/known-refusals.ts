/** Keys remembered at once; past it, expired entries are swept, and if none expired nothing new is kept. */
const MAX_KEYS = 10_000;

/**
 * Refusals whose answer is known until a time: while a key is over its cluster-wide limit, this
 * instance answers from here instead of asking Redis again on every attempt.
 */
export class KnownRefusals {
  private readonly until = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Seconds until `key` may try again, or null when nothing is known against it. */
  retryAfterSec(key: string): number | null {
    const until = this.until.get(key);
    if (until === undefined) return null;
    const left = until - this.now();
    if (left > 0) return Math.max(1, Math.ceil(left / 1000));
    this.until.delete(key);
    return null;
  }

  remember(key: string, retryAfterSec: number): void {
    if (this.until.size >= MAX_KEYS) {
      const now = this.now();
      for (const [known, at] of this.until) if (at <= now) this.until.delete(known);
      if (this.until.size >= MAX_KEYS) return;
    }
    this.until.set(key, this.now() + retryAfterSec * 1000);
  }
}
