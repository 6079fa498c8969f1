import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { randomUUID } from 'node:crypto';
import { canonicalId } from '../common/canonical-id.js';
import type { AppConfig } from '../config/app-config.js';
import type { RedisClient } from '../core/redis/redis.factory.js';
import { RedisService } from '../core/redis/redis.service.js';
import { MetricsService } from '../observability/metrics.service.js';
import { UserDirectory } from './user-directory.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A publish that has not answered by then counts as undelivered (and is sent again later). */
const PUBLISH_TIMEOUT_MS = 2000;
/** Undelivered changes kept for re-sending; past that the periodic re-check is the fallback. */
const MAX_UNDELIVERED = 10_000;

export type UserChangeListener = (userId: string) => Promise<void> | void;
export type ResyncListener = () => Promise<void> | void;

/**
 * "This user's state changed in the database": drops the user-state cache entry and lets live
 * sessions re-check, on this instance and — through Redis pub/sub under REDIS_KEY_PREFIX — on
 * every other one. Call `invalidate(userId)` after committing a deactivation, a role or tenant
 * change, or a revocation. Without Redis it is in-process only.
 *
 * Pub/sub is fire-and-forget, so a change published while Redis (or this instance's link to it)
 * is down is logged, kept and sent again when the link is back; and whenever the link comes
 * back, this instance forgets its whole cache and re-checks its sessions (resync listeners),
 * because it may have missed other instances' changes meanwhile.
 */
@Injectable()
export class UserStateChannel implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(UserStateChannel.name);
  private readonly instanceId = randomUUID();
  private readonly channel: string;
  private readonly changeListeners = new Set<UserChangeListener>();
  private readonly resyncListeners = new Set<ResyncListener>();
  private readonly undelivered = new Set<string>();
  private publisher: RedisClient | null = null;
  private subscriber: RedisClient | null = null;
  private linkedOnce = false;

  constructor(
    private readonly directory: UserDirectory,
    private readonly redis: RedisService,
    private readonly metrics: MetricsService,
    config: ConfigService<AppConfig, true>,
  ) {
    this.channel = `${config.get('redisKeyPrefix', { infer: true })}:user-state`;
  }

  onModuleInit(): void {
    const onError = (): void => {
      this.metrics.redisErrors.inc({ client: 'user-state' });
    };
    this.publisher = this.redis.duplicate('notify-gateway:user-state-pub', { failFast: true });
    this.subscriber = this.redis.duplicate('notify-gateway:user-state-sub');
    if (!this.publisher || !this.subscriber) return;
    this.publisher.on('error', onError);
    this.subscriber.on('error', onError);
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel) void this.receive(message);
    });
    this.subscriber.on('ready', () => void this.linkUp());
    this.publisher.on('ready', () => void this.resend());
    // ioredis subscribes again by itself after every reconnect.
    this.subscriber.subscribe(this.channel).catch(onError);
  }

  async onApplicationShutdown(): Promise<void> {
    for (const client of [this.publisher, this.subscriber]) {
      if (!client || client.status === 'end') continue;
      // quit() waits for a connection that may never come back; a shutdown must not.
      if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
      else client.disconnect();
    }
  }

  onChange(listener: UserChangeListener): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  onResync(listener: ResyncListener): () => void {
    this.resyncListeners.add(listener);
    return () => this.resyncListeners.delete(listener);
  }

  /**
   * After the change is committed: this instance's copy is dropped and its sessions re-checked
   * before this resolves; the other instances are told (or the failure logged, and retried).
   */
  async invalidate(id: string): Promise<void> {
    const userId = canonicalId(id);
    this.directory.forget(userId);
    await this.notifyLocal(userId);
    await this.publish(userId);
  }

  private async publish(userId: string): Promise<void> {
    const publisher = this.publisher;
    if (!publisher) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        publisher.publish(this.channel, `${this.instanceId} ${userId}`),
        new Promise((_resolve, reject) => {
          timer = setTimeout(() => reject(new Error('publish timed out')), PUBLISH_TIMEOUT_MS);
        }),
      ]);
      this.undelivered.delete(userId);
    } catch (error) {
      this.metrics.redisErrors.inc({ client: 'user-state' });
      if (this.undelivered.size >= MAX_UNDELIVERED) this.undelivered.delete(this.undelivered.values().next().value as string);
      this.undelivered.add(userId);
      this.logger.warn(
        { userId, err: error, undelivered: this.undelivered.size },
        'user state change not delivered to other instances (cut or re-check of their sessions): sent again when Redis is back; their periodic re-check catches it meanwhile',
      );
    } finally {
      clearTimeout(timer);
    }
  }

  private async receive(message: string): Promise<void> {
    const [sender, named] = message.split(' ');
    if (sender === this.instanceId || !named || !UUID.test(named)) return;
    const userId = canonicalId(named);
    this.directory.forget(userId);
    await this.notifyLocal(userId);
  }

  /** The subscriber is (again) connected: anything published meanwhile never reached us, nor ours them. */
  private async linkUp(): Promise<void> {
    if (!this.linkedOnce) {
      this.linkedOnce = true;
      return;
    }
    this.logger.warn({ undelivered: this.undelivered.size }, 'Redis link back: user-state cache cleared, sessions re-checked against the database');
    this.directory.forgetAll();
    await this.resend();
    for (const listener of this.resyncListeners) await this.guarded(() => listener());
  }

  private async resend(): Promise<void> {
    const pending = [...this.undelivered];
    if (pending.length === 0) return;
    for (const userId of pending) await this.publish(userId);
    if (this.undelivered.size === 0) this.logger.log({ delivered: pending.length }, 'undelivered user state changes sent');
  }

  private async notifyLocal(userId: string): Promise<void> {
    for (const listener of this.changeListeners) await this.guarded(() => listener(userId));
  }

  private async guarded(run: () => Promise<void> | void): Promise<void> {
    try {
      await run();
    } catch (error) {
      this.logger.error({ err: error }, 'user state listener failed');
    }
  }
}
