import { LRUCache } from 'lru-cache';
import type { Role } from '@notify-gateway/contracts';

/** What a handshake, a request or a privileged event needs to know about a user, and nothing more. */
export interface UserState {
  id: string;
  email: string;
  tenantId: string;
  role: Role;
  isActive: boolean;
}

export interface UserStateCacheOptions {
  /** 0: every lookup reads the database (concurrent lookups of one user still share one read). */
  ttlMs: number;
  maxEntries: number;
}

/**
 * A short-lived, bounded copy of each user's state, so handshakes, requests and per-event role
 * checks skip PostgreSQL on a hit. Invalidation must win every race with a read in flight: a read
 * that started before an invalidation may have seen the old row, so its answer is returned to
 * its caller but not stored.
 */
export class UserStateCache {
  private readonly entries: LRUCache<string, UserState> | null;
  private readonly reads = new Map<string, Promise<UserState | null>>();
  /** Bumped by every invalidation; a read stores its answer only if none happened meanwhile. */
  private generation = 0;

  constructor(options: UserStateCacheOptions) {
    // ttlResolution 0: read the clock on each lookup rather than cache it behind a timer per lookup.
    const cache = (): LRUCache<string, UserState> => new LRUCache({ max: options.maxEntries, ttl: options.ttlMs, ttlResolution: 0 });
    this.entries = options.ttlMs > 0 ? cache() : null;
  }

  get size(): number {
    return this.entries?.size ?? 0;
  }

  /** The cached state, else `read(id)` (one read per user at a time). Unknown users are not cached. */
  get(id: string, read: (id: string) => Promise<UserState | null>): Promise<UserState | null> {
    const hit = this.entries?.get(id);
    if (hit) return Promise.resolve(hit);
    const pending = this.reads.get(id);
    if (pending) return pending;
    const generation = this.generation;
    const reading = read(id)
      .then((state) => {
        if (state && generation === this.generation) this.entries?.set(id, state);
        return state;
      })
      .finally(() => {
        if (this.reads.get(id) === reading) this.reads.delete(id);
      });
    this.reads.set(id, reading);
    return reading;
  }

  /** Stores states read in bulk (the periodic re-check) if nothing was invalidated since `generation`. */
  storeAll(states: UserState[], generation: number): void {
    if (generation !== this.generation) return;
    for (const state of states) this.entries?.set(state.id, state);
  }

  /** Pass to `storeAll` with the answer of a read started now. */
  currentGeneration(): number {
    return this.generation;
  }

  invalidate(id: string): void {
    this.generation += 1;
    this.entries?.delete(id);
    this.reads.delete(id);
  }

  clear(): void {
    this.generation += 1;
    this.entries?.clear();
    this.reads.clear();
  }
}
