import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { createHash, randomBytes } from 'node:crypto';
import type { AppConfig } from '../../config/app-config.js';
import { ApiError } from '../../common/errors/api-error.js';
import { RedisService } from '../../core/redis/redis.service.js';
import { MetricsService } from '../../observability/metrics.service.js';

/** What a ticket stands for: the user and the expiry of the token that asked for it. */
export interface TicketGrant {
  userId: string;
  /** Epoch seconds: the stream ends then, as it would have with the token itself. */
  exp: number;
  /** The token's id and issue time, so a revocation after the ticket was issued still refuses it. */
  jti?: string;
  iat?: number;
}

/** 32 random bytes, base64url: the only shape a ticket can have. */
export const TICKET_SHAPE = /^[A-Za-z0-9_-]{43}$/;
/** Bound of the in-memory store; when it is full, new tickets are refused (none is ever evicted). */
const MAX_LOCAL_TICKETS = 10_000;

/**
 * Single-use EventSource tickets. Only a SHA-256 of the ticket is stored, so a dump of the
 * store yields nothing usable. With Redis, GETDEL makes a ticket work once across instances.
 */
@Injectable()
export class StreamTicketStore {
  private readonly logger = new Logger(StreamTicketStore.name);
  private readonly local = new Map<string, TicketGrant & { expiresAt: number }>();
  /** Unused, unexpired tickets of each user in `local`: one user's tickets never displace another's. */
  private readonly localByUser = new Map<string, number>();
  private readonly maxPerUser: number;
  private readonly keyPrefix: string;
  readonly ttlSec: number;

  constructor(
    private readonly redis: RedisService,
    private readonly metrics: MetricsService,
    config: ConfigService<AppConfig, true>,
  ) {
    this.ttlSec = config.get('sse', { infer: true }).ticketTtlSec;
    this.maxPerUser = config.get('sse', { infer: true }).maxTicketsPerUser;
    this.keyPrefix = `${config.get('redisKeyPrefix', { infer: true })}:sse-ticket:`;
  }

  async issue(grant: TicketGrant): Promise<string> {
    const ticket = randomBytes(32).toString('base64url');
    const key = digest(ticket);
    const client = this.redis.client;
    if (client) {
      const stored = await this.redisCall(() => client.set(this.keyPrefix + key, JSON.stringify(grant), 'EX', this.ttlSec, 'NX'));
      if (stored !== 'OK') throw new ApiError(503, 'SERVICE_UNAVAILABLE');
      return ticket;
    }
    this.prune();
    const held = this.localByUser.get(grant.userId) ?? 0;
    if (held >= this.maxPerUser) {
      // Counted, not logged per request: the issuance budget (HTTP_RATE_LIMIT_STREAM_TICKET) logs the flood.
      this.metrics.rateLimitHits.inc({ limit: 'sse-ticket-cap' });
      throw new ApiError(429, 'RATE_LIMITED', undefined, undefined, this.ttlSec);
    }
    if (this.local.size >= MAX_LOCAL_TICKETS) throw new ApiError(503, 'SERVICE_UNAVAILABLE', undefined, undefined, this.ttlSec);
    this.local.set(key, { ...grant, expiresAt: Date.now() + this.ttlSec * 1000 });
    this.localByUser.set(grant.userId, held + 1);
    return ticket;
  }

  /** The grant of a valid, unused ticket; the ticket is spent either way. */
  async consume(ticket: string): Promise<TicketGrant | null> {
    if (!TICKET_SHAPE.test(ticket)) return null;
    const key = digest(ticket);
    const client = this.redis.client;
    if (client) {
      const raw = await this.redisCall(() => client.getdel(this.keyPrefix + key));
      return raw === null ? null : parseGrant(raw);
    }
    const entry = this.local.get(key);
    if (!entry) return null;
    this.forget(key, entry.userId);
    if (entry.expiresAt <= Date.now()) return null;
    return { userId: entry.userId, exp: entry.exp, ...revocationFields(entry) };
  }

  /** Tickets share one TTL, so insertion order is expiry order: drop from the front. */
  private prune(): void {
    const now = Date.now();
    for (const [key, entry] of this.local) {
      if (entry.expiresAt > now) break;
      this.forget(key, entry.userId);
    }
  }

  private forget(key: string, userId: string): void {
    this.local.delete(key);
    const left = (this.localByUser.get(userId) ?? 1) - 1;
    if (left <= 0) this.localByUser.delete(userId);
    else this.localByUser.set(userId, left);
  }

  private async redisCall<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      this.metrics.redisErrors.inc({ client: 'commands' });
      this.logger.warn({ err: error }, 'stream ticket store unavailable');
      throw new ApiError(503, 'SERVICE_UNAVAILABLE');
    }
  }
}

function digest(ticket: string): string {
  return createHash('sha256').update(ticket).digest('base64url');
}

function parseGrant(raw: string): TicketGrant | null {
  try {
    const value = JSON.parse(raw) as Partial<TicketGrant>;
    if (typeof value.userId === 'string' && typeof value.exp === 'number') return { userId: value.userId, exp: value.exp, ...revocationFields(value) };
  } catch {
    // fall through
  }
  return null;
}

function revocationFields(value: Partial<TicketGrant>): Pick<TicketGrant, 'jti' | 'iat'> {
  return {
    ...(typeof value.jti === 'string' ? { jti: value.jti } : {}),
    ...(typeof value.iat === 'number' ? { iat: value.iat } : {}),
  };
}
