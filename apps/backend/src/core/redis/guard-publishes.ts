import type { RedisClient } from './redis.factory.js';

type Publish = (channel: string, message: string | Buffer) => Promise<number>;

/**
 * The socket.io Redis adapter publishes without awaiting. While Redis is down those promises
 * reject, and an unhandled rejection would end the process; here each one is counted instead.
 */
export function guardPublishes(client: RedisClient, onError: (error: unknown) => void): void {
  for (const method of ['publish', 'spublish'] as const) {
    const target = client as unknown as Record<typeof method, Publish>;
    const original = target[method].bind(client);
    target[method] = (channel, message) =>
      original(channel, message).catch((error: unknown) => {
        onError(error);
        return 0;
      });
  }
}
