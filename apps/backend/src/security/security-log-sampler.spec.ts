import { SecurityLogSampler } from './security-log-sampler';

describe('SecurityLogSampler', () => {
  let now = 0;
  const clock = (): number => now;
  beforeEach(() => {
    now = 1_000_000;
  });

  it('passes a burst per key, then drops and counts the rest', () => {
    const sampler = new SecurityLogSampler(3, 1, clock);
    const admitted = Array.from({ length: 10 }, () => sampler.admit('AUTHENTICATION_FAILED|10.0.0.1|'));
    expect(admitted.filter(Boolean)).toHaveLength(3);
    expect(sampler.admit('AUTHENTICATION_FAILED|10.0.0.2|')).toBe(true);
    expect(sampler.drain()).toEqual({ total: 7, top: [{ key: 'AUTHENTICATION_FAILED|10.0.0.1|', dropped: 7 }] });
    expect(sampler.drain()).toEqual({ total: 0, top: [] });
  });

  it('regains lines at the configured rate', () => {
    const sampler = new SecurityLogSampler(2, 2, clock);
    sampler.admit('k');
    sampler.admit('k');
    expect(sampler.admit('k')).toBe(false);
    now += 500;
    expect(sampler.admit('k')).toBe(true);
    expect(sampler.admit('k')).toBe(false);
  });

  it('forgets keys whose bucket is full again, and bounds the number of keys', () => {
    const sampler = new SecurityLogSampler(1, 1, clock);
    for (let i = 0; i < 10_050; i += 1) sampler.admit(`k${i}`);
    expect(sampler.size).toBe(10_001);
    now += 5_000;
    sampler.drain();
    expect(sampler.size).toBe(0);
  });
});
