import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { ConfigService } from '@nestjs/config';
import type { Result } from 'ioredis';
import type { AppConfig } from '../config/app-config.js';
import { RedisService } from '../core/redis/redis.service.js';
import { MetricsService } from '../observability/metrics.service.js';

/** How often this instance re-announces its connections; older entries belong to dead instances. */
const REFRESH_MS = 15_000;
const STALE_MS = 3 * REFRESH_MS;

// Trims entries of crashed instances, then adds the member only while under the cap. Atomic.
const ADD_SCRIPT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`;

// Re-scores the members (ARGV[2..]: score, member pairs) and extends the key's life: one round trip per user.
const REFRESH_SCRIPT = `
redis.call('ZADD', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1`;

// Defined with `defineCommand`: ioredis sends EVALSHA (the script's text only when Redis lacks
// it), where EVAL sent the whole script with every connection's handshake.
declare module 'ioredis' {
  interface RedisCommander<Context> {
    notifyConnectionAdd(key: string, staleBefore: number, now: number, cap: number, member: string, ttlMs: number): Result<number, Context>;
    notifyConnectionRefresh(key: string, ttlMs: number, ...scoreMembers: (string | number)[]): Result<number, Context>;
  }
}

/**
 * Connections per user. With Redis the count is cluster-wide: a sorted set per user whose
 * members are this instance's connection ids, scored by last refresh, so an instance that dies
 * stops counting within STALE_MS. Without Redis, or while it is down, counts are local.
 */
@Injectable()
export class UserConnectionCounter implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(UserConnectionCounter.name);
  private readonly instanceId = randomUUID();
  /** userId → this instance's connection ids: one id as a plain string (the usual case), a Set from the second on. */
  private readonly local = new Map<string, string | Set<string>>();
  private timer?: NodeJS.Timeout;

  private readonly keyPrefix: string;

  constructor(
    private readonly redis: RedisService,
    private readonly metrics: MetricsService,
    config: ConfigService<AppConfig, true>,
  ) {
    this.keyPrefix = config.get('redisKeyPrefix', { infer: true });
  }

  onModuleInit(): void {
    const client = this.redis.client;
    if (!client) return;
    client.defineCommand('notifyConnectionAdd', { numberOfKeys: 1, lua: ADD_SCRIPT });
    client.defineCommand('notifyConnectionRefresh', { numberOfKeys: 1, lua: REFRESH_SCRIPT });
    this.timer = setInterval(() => void this.refresh(), REFRESH_MS).unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  async add(userId: string, connectionId: string, cap: number): Promise<boolean> {
    const mine = this.local.get(userId);
    if (countOf(mine) >= cap) return false;
    if (mine === undefined) this.local.set(userId, connectionId);
    else if (typeof mine === 'string') this.local.set(userId, new Set([mine, connectionId]));
    else mine.add(connectionId);
    const client = this.redis.client;
    if (!client || client.status !== 'ready') return true;
    try {
      const now = Date.now();
      const admitted = await client.notifyConnectionAdd(this.key(userId), now - STALE_MS, now, cap, this.member(connectionId), STALE_MS * 2);
      if (admitted === 1) return true;
    } catch (error) {
      // Redis trouble must not lock users out: the local cap still holds.
      this.metrics.redisErrors.inc({ client: 'commands' });
      this.logger.warn({ err: error }, 'per-user connection count unavailable; using local count');
      return true;
    }
    this.forget(userId, connectionId);
    return false;
  }

  remove(userId: string, connectionId: string): void {
    this.forget(userId, connectionId);
    const client = this.redis.client;
    if (!client || client.status !== 'ready') return;
    client.zrem(this.key(userId), this.member(connectionId)).catch(() => this.metrics.redisErrors.inc({ client: 'commands' }));
  }

  private forget(userId: string, connectionId: string): void {
    const mine = this.local.get(userId);
    if (mine === connectionId) this.local.delete(userId);
    else if (typeof mine === 'object') {
      mine.delete(connectionId);
      if (mine.size === 0) this.local.delete(userId);
    }
  }

  /** Braces keep a user's key in one Cluster slot. */
  private key(userId: string): string {
    return `${this.keyPrefix}:conn:user:{${userId}}`;
  }

  private member(connectionId: string): string {
    return `${this.instanceId}:${connectionId}`;
  }

  private async refresh(): Promise<void> {
    const client = this.redis.client;
    if (!client || client.status !== 'ready' || this.local.size === 0) return;
    const now = Date.now();
    try {
      // One command per user: on a Cluster the keys live on different slots.
      await Promise.all(
        [...this.local].map(([userId, ids]) => client.notifyConnectionRefresh(this.key(userId), STALE_MS * 2, ...(typeof ids === 'string' ? [ids] : [...ids]).flatMap((id) => [now, this.member(id)]))),
      );
    } catch (error) {
      this.metrics.redisErrors.inc({ client: 'commands' });
      this.logger.warn({ err: error }, 'refreshing per-user connection counts failed');
    }
  }
}

function countOf(ids: string | Set<string> | undefined): number {
  if (ids === undefined) return 0;
  return typeof ids === 'string' ? 1 : ids.size;
}
