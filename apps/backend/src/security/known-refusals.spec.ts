import { KnownRefusals } from './known-refusals';

describe('KnownRefusals', () => {
  it('answers until the retry time has passed, then forgets', () => {
    let now = 1_000_000;
    const known = new KnownRefusals(() => now);
    expect(known.retryAfterSec('u1')).toBeNull();
    known.remember('u1', 3);
    expect(known.retryAfterSec('u1')).toBe(3);
    now += 2_500;
    expect(known.retryAfterSec('u1')).toBe(1);
    now += 600;
    expect(known.retryAfterSec('u1')).toBeNull();
    expect(known.retryAfterSec('u2')).toBeNull();
  });
});
