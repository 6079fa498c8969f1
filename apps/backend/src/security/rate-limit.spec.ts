import { Logger } from '@nestjs/common';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { RateLimit } from './rate-limiter.factory';

describe('RateLimit', () => {
  const limit = (points: number): RateLimit => new RateLimit('test', points, 60, new RateLimiterMemory({ points, duration: 60 }), () => null, new Logger('test'));

  it('allows `points` per window, then refuses with a Retry-After; only the first refusal is flagged as crossing the limit', async () => {
    const three = limit(3);
    const decisions = [];
    for (let i = 0; i < 6; i += 1) decisions.push(await three.consume('user-1'));
    expect(decisions.slice(0, 3)).toEqual([{ allowed: true }, { allowed: true }, { allowed: true }]);
    expect(decisions.slice(3).map((decision) => !decision.allowed && decision.firstInWindow)).toEqual([true, false, false]);
    expect(decisions.slice(3).every((decision) => !decision.allowed && decision.retryAfterSec >= 1 && decision.retryAfterSec <= 60)).toBe(true);
    // Another key has its own budget.
    expect(await three.consume('user-2')).toEqual({ allowed: true });
  });

  it('a reward gives a point back', async () => {
    const one = limit(1);
    expect(await one.consume('k')).toEqual({ allowed: true });
    await one.reward('k');
    expect(await one.consume('k')).toEqual({ allowed: true });
    expect((await one.consume('k')).allowed).toBe(false);
  });
});
