import { UserStateCache, type UserState } from './user-state-cache.js';

const state = (id: string, role: UserState['role'] = 'USER'): UserState => ({ id, email: `${id}@test`, tenantId: 't1', role, isActive: true });

/** A read that counts its calls and answers when told to. */
function controlledRead(answer: (id: string) => UserState | null = (id) => state(id)) {
  const pending: (() => void)[] = [];
  const reader = {
    calls: 0,
    read: (id: string): Promise<UserState | null> => {
      reader.calls += 1;
      return new Promise((resolve) => pending.push(() => resolve(answer(id))));
    },
    release: (): void => {
      for (const resolve of pending.splice(0)) resolve();
    },
  };
  return reader;
}

const immediate = (answer: (id: string) => UserState | null = (id) => state(id)) => {
  const reader = { calls: 0, read: (id: string) => ((reader.calls += 1), Promise.resolve(answer(id))) };
  return reader;
};

describe('UserStateCache', () => {
  it('serves a second lookup from memory', async () => {
    const cache = new UserStateCache({ ttlMs: 60_000, maxEntries: 10 });
    const reader = immediate();
    expect(await cache.get('a', reader.read)).toEqual(state('a'));
    expect(await cache.get('a', reader.read)).toEqual(state('a'));
    expect(reader.calls).toBe(1);
  });

  it('with a TTL of 0 reads every time, but concurrent lookups of one user share one read', async () => {
    const cache = new UserStateCache({ ttlMs: 0, maxEntries: 10 });
    const reader = controlledRead();
    const both = Promise.all([cache.get('a', reader.read), cache.get('a', reader.read)]);
    reader.release();
    expect(await both).toEqual([state('a'), state('a')]);
    expect(reader.calls).toBe(1);
    const again = cache.get('a', reader.read);
    reader.release();
    await again;
    expect(reader.calls).toBe(2);
  });

  it('reads again after invalidate', async () => {
    const cache = new UserStateCache({ ttlMs: 60_000, maxEntries: 10 });
    let role: UserState['role'] = 'ADMIN';
    const reader = immediate((id) => state(id, role));
    expect((await cache.get('a', reader.read))?.role).toBe('ADMIN');
    role = 'USER';
    expect((await cache.get('a', reader.read))?.role).toBe('ADMIN');
    cache.invalidate('a');
    expect((await cache.get('a', reader.read))?.role).toBe('USER');
  });

  it('does not store a read that was in flight when the user was invalidated (it may predate the change)', async () => {
    const cache = new UserStateCache({ ttlMs: 60_000, maxEntries: 10 });
    let role: UserState['role'] = 'ADMIN';
    const slow = controlledRead((id) => state(id, 'ADMIN'));
    const stale = cache.get('a', slow.read);
    role = 'USER';
    cache.invalidate('a');
    slow.release();
    expect((await stale)?.role).toBe('ADMIN');
    const fresh = immediate((id) => state(id, role));
    expect((await cache.get('a', fresh.read))?.role).toBe('USER');
    expect(fresh.calls).toBe(1);
  });

  it('does not cache unknown users', async () => {
    const cache = new UserStateCache({ ttlMs: 60_000, maxEntries: 10 });
    const reader = immediate(() => null);
    expect(await cache.get('ghost', reader.read)).toBeNull();
    expect(await cache.get('ghost', reader.read)).toBeNull();
    expect(reader.calls).toBe(2);
  });

  it('holds at most maxEntries users, dropping the least recently used', async () => {
    const cache = new UserStateCache({ ttlMs: 60_000, maxEntries: 100 });
    const reader = immediate();
    for (let i = 0; i < 250; i += 1) await cache.get(`u${i}`, reader.read);
    expect(cache.size).toBe(100);
    await cache.get('u249', reader.read);
    expect(reader.calls).toBe(250);
    await cache.get('u0', reader.read);
    expect(reader.calls).toBe(251);
  });

  it('storeAll refreshes entries unless an invalidation happened since the read began', async () => {
    const cache = new UserStateCache({ ttlMs: 60_000, maxEntries: 10 });
    const generation = cache.currentGeneration();
    cache.invalidate('other');
    cache.storeAll([state('a', 'ADMIN')], generation);
    const reader = immediate((id) => state(id, 'USER'));
    expect((await cache.get('a', reader.read))?.role).toBe('USER');
    cache.storeAll([state('a', 'SUPER_ADMIN')], cache.currentGeneration());
    expect((await cache.get('a', reader.read))?.role).toBe('SUPER_ADMIN');
    cache.clear();
    expect((await cache.get('a', reader.read))?.role).toBe('USER');
  });
});
