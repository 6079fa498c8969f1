import { Cluster, Redis } from 'ioredis';
import type { RedisConfig } from '../../config/app-config.js';

export type RedisClient = Redis | Cluster;

/**
 * The one place Redis clients are made, for single node and Cluster alike. Commands fail fast
 * while Redis is down (no offline queue growth) and the client reconnects on its own.
 */
export interface RedisClientOptions {
  /** Fail commands at once while disconnected instead of queueing them (publishers). */
  failFast?: boolean;
}

export function createRedisClient(config: Exclude<RedisConfig, { mode: 'none' }>, name: string, options: RedisClientOptions = {}): RedisClient {
  const enableOfflineQueue = !options.failFast;
  const retryStrategy = (attempt: number): number => Math.min(attempt * 200, 2000);
  if (config.mode === 'cluster') {
    return new Cluster(config.nodes, {
      clusterRetryStrategy: retryStrategy,
      enableOfflineQueue,
      shardedSubscribers: true,
      redisOptions: { connectionName: name, maxRetriesPerRequest: 1, connectTimeout: 3000 },
    });
  }
  return new Redis(config.url, {
    connectionName: name,
    retryStrategy,
    maxRetriesPerRequest: 1,
    connectTimeout: 3000,
    enableOfflineQueue,
  });
}
