import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { SESSION_END_CODES, type SessionEndCode } from '@notify-gateway/contracts';
import type { AppConfig } from '../config/app-config.js';
import { ApiError } from '../common/errors/api-error.js';
import { RedisService } from '../core/redis/redis.service.js';
import type { RedisClient } from '../core/redis/redis.factory.js';
import { MetricsService } from '../observability/metrics.service.js';

/** What was revoked: one token by id, or every token of a user issued before `notBefore`. */
export type Revocation =
  | { kind: 'token'; userId: string; jti: string; exp: number }
  | { kind: 'user'; userId: string; notBefore: number; endCode?: SessionEndCode };

const PRUNE_INTERVAL_MS = 60_000;
const JTI_SHAPE = /^[\x21-\x7e]{1,256}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The deny list (token ids, kept until the token's exp) and per-user not-before times. Checked
 * from memory on every handshake, request and stream: no database or Redis round trip. With
 * Redis, the state lives in two hashes and every change is published, so each instance's mirror
 * follows within a pub/sub hop; a (re)connected subscriber reloads the hashes.
 */
@Injectable()
export class TokenRevocations implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(TokenRevocations.name);
  private readonly deniedTokens = new Map<string, number>();
  private readonly notBefore = new Map<string, number>();
  /** What the sessions a per-user not-before ends are told, when not TOKEN_REVOKED (a deactivation). */
  private readonly endCodes = new Map<string, SessionEndCode>();
  private readonly listeners = new Set<(revocation: Revocation) => void>();
  private readonly tokensKey: string;
  private readonly usersKey: string;
  private readonly channel: string;
  private readonly maxLifetimeSec: number | undefined;
  private subscriber: RedisClient | null = null;
  private pruneTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: RedisService,
    private readonly metrics: MetricsService,
    config: ConfigService<AppConfig, true>,
  ) {
    const prefix = config.get('redisKeyPrefix', { infer: true });
    this.tokensKey = `${prefix}:revoked-tokens`;
    this.usersKey = `${prefix}:revoked-before`;
    this.channel = `${prefix}:revocations`;
    this.maxLifetimeSec = config.get('jwt', { infer: true }).maxLifetimeSec;
  }

  async onModuleInit(): Promise<void> {
    this.pruneTimer = setInterval(() => this.prune(), PRUNE_INTERVAL_MS);
    this.pruneTimer.unref();
    const subscriber = this.redis.duplicate('notify-gateway:revocations-sub');
    if (!subscriber) return;
    this.subscriber = subscriber;
    subscriber.on('error', () => undefined);
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel) this.applyMessage(message);
    });
    // Subscribed first, loaded second: nothing published in between is missed. A reconnect
    // (ready again) reloads whatever was published while this instance was away.
    subscriber.on('ready', () => void this.reload());
    try {
      await subscriber.subscribe(this.channel);
      await this.reload();
    } catch (error) {
      this.metrics.redisErrors.inc({ client: 'revocations' });
      this.logger.warn({ err: error }, 'revocations not loaded at boot; they load when Redis answers');
    }
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.pruneTimer);
    const subscriber = this.subscriber;
    if (subscriber && subscriber.status !== 'end') await subscriber.quit().catch(() => subscriber.disconnect());
  }

  /** True when the token must be refused. Memory only. */
  isRevoked(userId: string, jti: string | undefined, iat: number | undefined): boolean {
    return this.sessionEnd(userId, jti, iat) !== undefined;
  }

  /** What a live session on the token is told as it ends (as RevokedSessions tells it); undefined: not revoked. Memory only. */
  sessionEnd(userId: string, jti: string | undefined, iat: number | undefined): SessionEndCode | undefined {
    if (jti !== undefined && this.deniedTokens.has(jti)) return 'TOKEN_REVOKED';
    const notBefore = this.notBefore.get(userId);
    // A token that does not say when it was issued cannot prove it came after.
    if (notBefore === undefined || (iat !== undefined && iat >= notBefore)) return undefined;
    return this.endCodes.get(userId) ?? 'TOKEN_REVOKED';
  }

  /** The earliest `iat` a new token of this user may carry (login writes it), if any. */
  notBeforeOf(userId: string): number | undefined {
    return this.notBefore.get(userId);
  }

  /** Refuses one token (by `jti`) until its `exp`, on every instance. */
  async revokeToken(userId: string, jti: string, exp: number): Promise<void> {
    const revocation: Revocation = { kind: 'token', userId, jti, exp };
    this.apply(revocation);
    await this.share(revocation, (client) => client.hset(this.tokensKey, jti, JSON.stringify({ userId, exp })));
  }

  /**
   * Refuses every token of the user issued before now, on every instance. The time is rounded
   * up to the next second (`iat` has whole seconds): a token issued in this second is refused
   * too, and login issues the user's next token with `iat` at that second. `endCode`: what the
   * ended sessions are told (default TOKEN_REVOKED), e.g. USER_DISCONNECTED for a deactivation.
   */
  async revokeUser(userId: string, endCode?: SessionEndCode): Promise<number> {
    const notBefore = Math.ceil(Date.now() / 1000 + 0.001);
    const revocation: Revocation = { kind: 'user', userId, notBefore: Math.max(notBefore, this.notBefore.get(userId) ?? 0), ...(endCode ? { endCode } : {}) };
    this.apply(revocation);
    await this.share(revocation, (client) => client.hset(this.usersKey, userId, String(revocation.notBefore)));
    return revocation.notBefore;
  }

  /** Called for every revocation this instance learns of (its own and other instances'). */
  onRevoked(listener: (revocation: Revocation) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async share(revocation: Revocation, store: (client: RedisClient) => Promise<unknown>): Promise<void> {
    this.metrics.tokensRevoked.inc({ kind: revocation.kind });
    const client = this.redis.client;
    if (!client) return;
    try {
      await store(client);
      await client.publish(this.channel, JSON.stringify(revocation));
    } catch (error) {
      // This instance refuses already; the others would not: the caller must know.
      this.metrics.redisErrors.inc({ client: 'revocations' });
      this.logger.error({ err: error, userId: revocation.userId, kind: revocation.kind }, 'revocation not shared with other instances');
      throw new ApiError(503, 'SERVICE_UNAVAILABLE');
    }
  }

  /** Records a revocation; listeners hear of it only when it changed something. */
  private apply(revocation: Revocation): void {
    let changed = false;
    if (revocation.kind === 'token') {
      if (revocation.exp * 1000 > Date.now() && !this.deniedTokens.has(revocation.jti)) {
        this.deniedTokens.set(revocation.jti, revocation.exp);
        changed = true;
      }
    } else if ((this.notBefore.get(revocation.userId) ?? 0) < revocation.notBefore) {
      this.notBefore.set(revocation.userId, revocation.notBefore);
      if (revocation.endCode) this.endCodes.set(revocation.userId, revocation.endCode);
      else this.endCodes.delete(revocation.userId);
      changed = true;
    }
    if (!changed) return;
    for (const listener of this.listeners) listener(revocation);
  }

  private applyMessage(message: string): void {
    const revocation = parseRevocation(message);
    if (revocation) this.apply(revocation);
    else this.logger.warn('malformed revocation message ignored');
  }

  private async reload(): Promise<void> {
    const client = this.redis.client;
    if (!client) return;
    try {
      const [tokens, users] = await Promise.all([client.hgetall(this.tokensKey), client.hgetall(this.usersKey)]);
      for (const [jti, raw] of Object.entries(tokens)) {
        const revocation = parseRevocation(JSON.stringify({ kind: 'token', jti, ...safeJson(raw) }));
        if (revocation) this.apply(revocation);
      }
      for (const [userId, raw] of Object.entries(users)) {
        const revocation = parseRevocation(JSON.stringify({ kind: 'user', userId, notBefore: Number(raw) }));
        if (revocation) this.apply(revocation);
      }
    } catch (error) {
      this.metrics.redisErrors.inc({ client: 'revocations' });
      this.logger.warn({ err: error }, 'revocations reload failed');
    }
  }

  /** Drops what can no longer matter: denied ids past their exp; not-before times older than any live token. */
  private prune(): void {
    const now = Date.now() / 1000;
    const expired = [...this.deniedTokens].filter(([, exp]) => exp <= now).map(([jti]) => jti);
    for (const jti of expired) this.deniedTokens.delete(jti);
    const stale: string[] = [];
    if (this.maxLifetimeSec !== undefined) {
      for (const [userId, notBefore] of this.notBefore) if (notBefore + (this.maxLifetimeSec as number) < now) stale.push(userId);
      for (const userId of stale) {
        this.notBefore.delete(userId);
        this.endCodes.delete(userId);
      }
    }
    const client = this.redis.client;
    if (!client) return;
    // Any instance may prune the shared hashes: HDEL of an already-gone field is harmless.
    const calls: Promise<unknown>[] = [];
    if (expired.length > 0) calls.push(client.hdel(this.tokensKey, ...expired));
    if (stale.length > 0) calls.push(client.hdel(this.usersKey, ...stale));
    Promise.all(calls).catch(() => this.metrics.redisErrors.inc({ client: 'revocations' }));
  }
}

function safeJson(raw: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(raw);
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function parseRevocation(message: string): Revocation | null {
  const value = safeJson(message);
  if (typeof value.userId !== 'string' || !UUID.test(value.userId)) return null;
  const userId = value.userId.toLowerCase();
  if (value.kind === 'token' && typeof value.jti === 'string' && JTI_SHAPE.test(value.jti) && typeof value.exp === 'number' && Number.isFinite(value.exp)) {
    return { kind: 'token', userId, jti: value.jti, exp: value.exp };
  }
  if (value.kind === 'user' && typeof value.notBefore === 'number' && Number.isFinite(value.notBefore)) {
    const endCode = (SESSION_END_CODES as readonly unknown[]).includes(value.endCode) ? (value.endCode as SessionEndCode) : undefined;
    return { kind: 'user', userId, notBefore: value.notBefore, ...(endCode ? { endCode } : {}) };
  }
  return null;
}
