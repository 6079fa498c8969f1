import type { RedisClient } from './redis.factory.js';

/** Commands the socket.io Redis adapter sends without awaiting them. */
const FIRE_AND_FORGET = ['publish', 'spublish', 'subscribe', 'unsubscribe', 'psubscribe', 'punsubscribe', 'ssubscribe', 'sunsubscribe'] as const;

type Command = (...args: unknown[]) => Promise<unknown>;

/**
 * The socket.io Redis adapter publishes and (un)subscribes without awaiting. While Redis is down,
 * or after a Cluster client has ended, those promises reject, and an unhandled rejection would end
 * the process; here each one is counted instead. ioredis re-subscribes by itself on reconnect.
 */
export function guardUnawaitedCommands(client: RedisClient, onError: (error: unknown) => void): void {
  const target = client as unknown as Record<(typeof FIRE_AND_FORGET)[number], Command>;
  for (const method of FIRE_AND_FORGET) {
    const original = target[method].bind(client);
    target[method] = (...args) =>
      original(...args).catch((error: unknown) => {
        onError(error);
        return 0;
      });
  }
}
