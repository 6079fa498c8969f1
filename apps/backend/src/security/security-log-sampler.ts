/** Keys tracked at once; past it, new keys share one bucket so an attacker with many addresses cannot grow the map. */
const MAX_KEYS = 10_000;
const OVERFLOW_KEY = '*';

interface Bucket {
  tokens: number;
  at: number;
  dropped: number;
}

export interface DroppedSummary {
  total: number;
  /** The keys that lost the most lines, most first (at most five). */
  top: { key: string; dropped: number }[];
}

/**
 * Token buckets per key (event, peer, principal): a burst of lines passes, then a steady rate;
 * the rest is dropped and counted, so a flood costs a bounded number of log lines while the
 * summary still says what was lost.
 */
export class SecurityLogSampler {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly burst: number,
    private readonly ratePerSec: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when a line for `key` may be written now. */
  admit(key: string): boolean {
    const at = this.now();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      const shared = this.buckets.size >= MAX_KEYS ? OVERFLOW_KEY : key;
      bucket = this.buckets.get(shared) ?? { tokens: this.burst, at, dropped: 0 };
      this.buckets.set(shared, bucket);
    }
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((at - bucket.at) / 1000) * this.ratePerSec);
    bucket.at = at;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return true;
    }
    bucket.dropped += 1;
    return false;
  }

  /** What was dropped since the last call; forgets keys whose bucket is full again. */
  drain(): DroppedSummary {
    const at = this.now();
    const top: { key: string; dropped: number }[] = [];
    let total = 0;
    for (const [key, bucket] of this.buckets) {
      if (bucket.dropped > 0) {
        total += bucket.dropped;
        top.push({ key, dropped: bucket.dropped });
        bucket.dropped = 0;
      }
      const tokens = bucket.tokens + ((at - bucket.at) / 1000) * this.ratePerSec;
      if (tokens >= this.burst) this.buckets.delete(key);
    }
    top.sort((x, y) => y.dropped - x.dropped);
    return { total, top: top.slice(0, 5) };
  }

  get size(): number {
    return this.buckets.size;
  }
}
