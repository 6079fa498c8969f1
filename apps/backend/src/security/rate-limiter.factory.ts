import { Injectable, Logger } from '@nestjs/common';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/app-config.js';
import { RedisService } from '../core/redis/redis.service.js';

export type RateLimitDecision =
  | { allowed: true }
  /** `firstInWindow`: this refusal is the one that crossed the limit (log once per window and key). */
  | { allowed: false; retryAfterSec: number; firstInWindow: boolean };

/** A named limit: `points` per `durationSec` per key. */
export class RateLimit {
  private fallbackLogged = false;

  constructor(
    readonly name: string,
    readonly points: number,
    readonly durationSec: number,
    private readonly limiter: RateLimiterAbstract,
    private readonly redisReady: () => boolean | null,
    private readonly logger: Logger,
  ) {}

  async consume(key: string, points = 1): Promise<RateLimitDecision> {
    this.noteFallback();
    try {
      await this.limiter.consume(key, points);
      return { allowed: true };
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) {
        // Refused consumes still count, so exactly one refusal per window saw the count cross the limit.
        const firstInWindow = rejection.consumedPoints - points <= this.points;
        return { allowed: false, retryAfterSec: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)), firstInWindow };
      }
      // Neither Redis nor the insurance limiter answered: refuse rather than fail open, and say so.
      this.logger.error({ limit: this.name, err: rejection }, 'rate limiter failed; refusing');
      return { allowed: false, retryAfterSec: 1, firstInWindow: true };
    }
  }

  /** Gives back points, e.g. when a connection counted by a limiter closes. */
  async reward(key: string, points = 1): Promise<void> {
    await this.limiter.reward(key, points).catch(() => undefined);
  }

  private noteFallback(): void {
    const ready = this.redisReady();
    if (ready === null) return;
    if (!ready && !this.fallbackLogged) {
      this.fallbackLogged = true;
      this.logger.warn({ limit: this.name }, 'Redis unavailable: rate limit falls back to the per-instance insurance limiter');
    } else if (ready && this.fallbackLogged) {
      this.fallbackLogged = false;
      this.logger.log({ limit: this.name }, 'Redis available again: rate limit is cluster-wide');
    }
  }
}

/**
 * Rate limits that hold across instances: Redis-backed when Redis is configured, with an
 * in-memory insurance limiter for outages; in-memory when the app runs single-instance.
 */
@Injectable()
export class RateLimiterFactory {
  private readonly logger = new Logger('RateLimiter');

  private readonly prefix: string;

  constructor(
    private readonly redis: RedisService,
    config: ConfigService<AppConfig, true>,
  ) {
    this.prefix = config.get('redisKeyPrefix', { infer: true });
  }

  create(name: string, points: number, durationSec: number): RateLimit {
    const keyPrefix = `${this.prefix}:rl:${name}`;
    const memory = new RateLimiterMemory({ keyPrefix, points, duration: durationSec });
    const client = this.redis.client;
    if (!client) return new RateLimit(name, points, durationSec, memory, () => null, this.logger);
    const limiter = new RateLimiterRedis({
      storeClient: client,
      keyPrefix,
      points,
      duration: durationSec,
      insuranceLimiter: memory,
      rejectIfRedisNotReady: true,
    });
    return new RateLimit(name, points, durationSec, limiter, () => client.status === 'ready', this.logger);
  }
}
