import { Backoff } from './backoff';

describe('Backoff', () => {
  it('doubles from the minimum up to the ceiling without jitter', () => {
    const backoff = new Backoff({ minMs: 100, maxMs: 1000, jitter: 0 });
    expect([1, 2, 3, 4, 5, 6].map(() => backoff.next())).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoff.attempt).toBe(6);
  });

  it('starts over after reset', () => {
    const backoff = new Backoff({ minMs: 100, maxMs: 1000, jitter: 0 });
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.next()).toBe(100);
  });

  it('spreads each delay by the jitter fraction and never exceeds the ceiling', () => {
    const low = new Backoff({ minMs: 1000, maxMs: 5000, jitter: 0.5, random: () => 0 });
    const high = new Backoff({ minMs: 1000, maxMs: 5000, jitter: 0.5, random: () => 0.999999 });
    expect(low.next()).toBe(500);
    expect(high.next()).toBe(1500);
    for (let i = 0; i < 10; i += 1) high.next();
    expect(high.next()).toBe(5000);
  });

  it('stays finite after very many attempts', () => {
    const backoff = new Backoff({ minMs: 10, maxMs: 30_000, random: () => 0 });
    let last = 0;
    for (let i = 0; i < 5000; i += 1) last = backoff.next();
    expect(Number.isFinite(last)).toBe(true);
    expect(last).toBe(15_000);
  });

  it('refuses a ceiling below the minimum', () => {
    expect(() => new Backoff({ minMs: 100, maxMs: 10 })).toThrow(RangeError);
  });
});
