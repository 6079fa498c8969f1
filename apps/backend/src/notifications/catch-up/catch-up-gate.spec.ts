import { CatchUpGate } from './catch-up-gate';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('CatchUpGate', () => {
  it('runs at most `limit` reads at once and starts the others in arrival order', async () => {
    const gate = new CatchUpGate(2);
    const releases = Array.from({ length: 5 }, deferred);
    const started: number[] = [];
    const runs = releases.map((release, i) =>
      gate.run(async () => {
        started.push(i);
        await release.promise;
        return i;
      }),
    );
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1]);
    expect(gate.stats).toMatchObject({ active: 2, waiting: 3 });
    releases[1].resolve();
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1, 2]);
    for (const release of releases) release.resolve();
    await expect(Promise.all(runs)).resolves.toEqual([0, 1, 2, 3, 4]);
    expect(gate.stats).toEqual({ active: 0, waiting: 0, peakActive: 2, peakWaiting: 3 });
  });

  it('frees the slot when a read fails', async () => {
    const gate = new CatchUpGate(1);
    await expect(gate.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(gate.run(() => Promise.resolve('next'))).resolves.toBe('next');
    expect(gate.stats.active).toBe(0);
  });

  it('refuses a limit below one', () => {
    expect(() => new CatchUpGate(0)).toThrow(RangeError);
  });
});
