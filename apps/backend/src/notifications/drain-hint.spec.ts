import { DRAIN_SPREAD_MAX_MS, DRAIN_SPREAD_MIN_MS, drainSpreadMs } from './drain-hint';

describe('drainSpreadMs', () => {
  it('spreads the sockets at the rate, within 1 s to 30 s', () => {
    expect(drainSpreadMs(5000, 1000)).toBe(5000);
    expect(drainSpreadMs(1500, 1000)).toBe(1500);
    expect(drainSpreadMs(10, 1000)).toBe(DRAIN_SPREAD_MIN_MS);
    expect(drainSpreadMs(0, 1000)).toBe(DRAIN_SPREAD_MIN_MS);
    expect(drainSpreadMs(1_000_000, 1000)).toBe(DRAIN_SPREAD_MAX_MS);
  });

  it('never divides by zero nor goes negative', () => {
    expect(drainSpreadMs(100, 0)).toBe(DRAIN_SPREAD_MAX_MS);
    expect(drainSpreadMs(-5, 1000)).toBe(DRAIN_SPREAD_MIN_MS);
  });
});
