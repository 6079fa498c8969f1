import { DRAIN_SPREAD_MAX_MS, DRAIN_SPREAD_MIN_MS, REBALANCE_MIN_EXCESS, drainSpreadMs, rebalanceShare } from './drain-hint';

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

describe('rebalanceShare', () => {
  it('sheds the excess over the mean of the cluster', () => {
    expect(rebalanceShare(2000, [0], 10_000)).toBe(1000);
    expect(rebalanceShare(1500, [500, 1000], 10_000)).toBe(500);
  });

  it('keeps its sockets when alone, below the mean or near it', () => {
    expect(rebalanceShare(2000, [], 10_000)).toBe(0);
    expect(rebalanceShare(500, [1500], 10_000)).toBe(0);
    expect(rebalanceShare(1050, [950], 10_000)).toBe(0);
    expect(rebalanceShare(30, [0], 10_000)).toBe(0);
    expect(rebalanceShare(60, [0], 10_000)).toBe(REBALANCE_MIN_EXCESS + 10);
  });

  it('never sheds more than a round allows', () => {
    expect(rebalanceShare(10_000, [0], 2500)).toBe(2500);
  });
});
