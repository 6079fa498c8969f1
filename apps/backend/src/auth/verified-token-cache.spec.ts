import { VerifiedTokenCache } from './verified-token-cache.js';

const KEY = { name: 'key A' };
const entry = (validBeforeSec: number, key: unknown = KEY) => ({ claims: { sub: 'u1' }, kid: 'a', key, validBeforeSec });
const keyA = (kid: unknown): unknown => (kid === 'a' ? KEY : undefined);

describe('VerifiedTokenCache', () => {
  it('answers a token verified earlier while its exp (with tolerance) is ahead', () => {
    const cache = new VerifiedTokenCache<{ sub: string }>(10);
    cache.set('t1', entry(1000));
    expect(cache.get('t1', 999_999, keyA)).toEqual({ sub: 'u1' });
    expect(cache.get('t2', 999_999, keyA)).toBeUndefined();
  });

  it('forgets it from the second the verification would call it expired (floor(now) >= exp + tolerance)', () => {
    const cache = new VerifiedTokenCache<{ sub: string }>(10);
    cache.set('t1', entry(1000));
    expect(cache.get('t1', 1_000_000, keyA)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('forgets it when its kid names another key now, or none', () => {
    const cache = new VerifiedTokenCache<{ sub: string }>(10);
    cache.set('t1', entry(1000));
    expect(cache.get('t1', 0, () => ({ name: 'key A, fetched again' }))).toBeUndefined();
    cache.set('t2', entry(1000));
    expect(cache.get('t2', 0, () => undefined)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('holds at most maxEntries, dropping the oldest', () => {
    const cache = new VerifiedTokenCache<{ sub: string }>(2);
    cache.set('t1', entry(1000));
    cache.set('t2', entry(1000));
    cache.set('t3', entry(1000));
    expect(cache.size).toBe(2);
    expect(cache.get('t1', 0, keyA)).toBeUndefined();
    expect(cache.get('t3', 0, keyA)).toEqual({ sub: 'u1' });
  });
});
