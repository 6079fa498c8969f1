import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../../config/app-config.js';
import { createRedisClient, type RedisClient, type RedisClientOptions } from './redis.factory.js';

/** Shared command client, or null when the app runs single-instance without Redis. */
@Injectable()
export class RedisService implements OnApplicationShutdown {
  readonly client: RedisClient | null;

  constructor(@Inject(ConfigService) private readonly config: ConfigService<AppConfig, true>) {
    const redis = config.get('redis', { infer: true });
    this.client = redis.mode === 'none' ? null : createRedisClient(redis, 'notify-gateway:commands');
    // Errors are reported by health and metrics; without a listener ioredis would print them raw.
    this.client?.on('error', () => undefined);
  }

  /** A further client, e.g. for pub/sub, configured like the shared one. */
  duplicate(name: string, options?: RedisClientOptions): RedisClient | null {
    const redis = this.config.get('redis', { infer: true });
    return redis.mode === 'none' ? null : createRedisClient(redis, name, options);
  }

  async ping(): Promise<void> {
    if (!this.client) return;
    await this.client.ping();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.client && this.client.status !== 'end') await this.client.quit().catch(() => this.client?.disconnect());
  }
}
