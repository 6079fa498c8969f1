import { CURSOR_PATTERN, MAX_TIMER_MS, timerDelayUntil } from './limits';

describe('timerDelayUntil', () => {
  it('is the time left, never negative', () => {
    expect(timerDelayUntil(1_500, 1_000)).toBe(500);
    expect(timerDelayUntil(1_000, 1_000)).toBe(0);
    expect(timerDelayUntil(500, 1_000)).toBe(0);
  });

  it('never exceeds what a timer can wait (a longer delay would fire at once)', () => {
    const thirtyDays = 30 * 24 * 3600 * 1000;
    expect(thirtyDays).toBeGreaterThan(MAX_TIMER_MS);
    expect(timerDelayUntil(thirtyDays, 0)).toBe(MAX_TIMER_MS);
    expect(MAX_TIMER_MS).toBe(2 ** 31 - 1);
  });
});

describe('CURSOR_PATTERN', () => {
  const cursor = new RegExp(CURSOR_PATTERN);
  it('takes 1 to 19 digits and nothing else', () => {
    expect(['0', '42', '9'.repeat(19)].every((value) => cursor.test(value))).toBe(true);
    expect(['', '9'.repeat(20), '-1', '1.5', ' 1', '1\n', 'abc'].some((value) => cursor.test(value))).toBe(false);
  });
});
