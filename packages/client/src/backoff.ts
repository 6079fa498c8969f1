export interface BackoffOptions {
  /** First delay, ms. */
  minMs: number;
  /** Ceiling, ms. */
  maxMs: number;
  /** Growth per attempt; 2 by default. */
  factor?: number;
  /** 0..1: each delay is spread by ± this fraction, so many clients do not retry in step. */
  jitter?: number;
  random?: () => number;
}

/** Exponential backoff with jitter, for the retries socket.io does not do itself (refused handshakes). */
export class Backoff {
  private attempts = 0;

  constructor(private readonly options: BackoffOptions) {
    if (options.minMs < 0 || options.maxMs < options.minMs) throw new RangeError('need 0 <= minMs <= maxMs');
  }

  /** The delay before the next attempt; each call counts as one attempt. */
  next(): number {
    const { minMs, maxMs, factor = 2, jitter = 0.5, random = Math.random } = this.options;
    const base = Math.min(maxMs, minMs * factor ** this.attempts);
    this.attempts += 1;
    const spread = base * Math.min(Math.max(jitter, 0), 1);
    return Math.round(Math.min(maxMs, Math.max(0, base - spread + 2 * spread * random())));
  }

  reset(): void {
    this.attempts = 0;
  }

  get attempt(): number {
    return this.attempts;
  }
}
