import { ApiError } from '../common/errors/api-error';
import { MetricsService } from '../observability/metrics.service';
import { CatchUpGate, type GateLimits } from './catch-up-gate';

class SmallGate extends CatchUpGate {
  protected override readonly limits: GateLimits;
  constructor(metrics: MetricsService, limits: GateLimits) {
    super(metrics);
    this.limits = limits;
  }
}

/** A read that finishes when the test says so. */
function held<T>(value: T): { read: () => Promise<T>; finish: () => void; started: () => boolean } {
  let finish = (): void => undefined;
  let started = false;
  const read = (): Promise<T> =>
    new Promise((resolve) => {
      started = true;
      finish = () => resolve(value);
    });
  return { read, finish: () => finish(), started: () => started };
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function gauge(metrics: MetricsService, name: string): Promise<number> {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  return metric?.values[0]?.value ?? 0;
}

describe('CatchUpGate', () => {
  it('runs at most atOnce reads, starts the waiting ones first come first served, and reports the line', async () => {
    const metrics = new MetricsService();
    const gate = new SmallGate(metrics, { atOnce: 2, maxWaiting: 10, maxWaitMs: 60_000 });
    const reads = [0, 1, 2, 3, 4].map((i) => held(i));
    const results = reads.map((r) => gate.run(r.read));
    await flush();
    expect(reads.map((r) => r.started())).toEqual([true, true, false, false, false]);
    expect(await gauge(metrics, 'notify_catch_up_waiting')).toBe(3);
    reads[1]?.finish();
    await flush();
    expect(reads.map((r) => r.started())).toEqual([true, true, true, false, false]);
    for (const r of reads) r.finish();
    await flush();
    for (const r of reads) r.finish();
    expect(await Promise.all(results)).toEqual([0, 1, 2, 3, 4]);
    expect(await gauge(metrics, 'notify_catch_up_waiting')).toBe(0);
  });

  it('a read that fails gives its turn back', async () => {
    const gate = new SmallGate(new MetricsService(), { atOnce: 1, maxWaiting: 10, maxWaitMs: 60_000 });
    await expect(gate.run(() => Promise.reject(new Error('query failed')))).rejects.toThrow('query failed');
    await expect(gate.run(() => Promise.resolve('next'))).resolves.toBe('next');
  });

  it('refuses with SERVICE_UNAVAILABLE and a retry hint when the line is full, and counts it', async () => {
    const metrics = new MetricsService();
    const gate = new SmallGate(metrics, { atOnce: 1, maxWaiting: 2, maxWaitMs: 60_000 });
    const reads = [0, 1, 2].map((i) => held(i));
    const admitted = reads.map((r) => gate.run(r.read));
    const refused = gate.run(() => Promise.resolve('never'));
    await expect(refused).rejects.toBeInstanceOf(ApiError);
    await expect(refused).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryAfter: 1 });
    expect(await gauge(metrics, 'notify_catch_up_refused_total')).toBe(1);
    for (let i = 0; i < 3; i += 1) {
      await flush();
      for (const r of reads) r.finish();
    }
    expect(await Promise.all(admitted)).toEqual([0, 1, 2]);
  });

  it('refuses a reader whose wait runs out, never starts its read, and keeps the others in line', async () => {
    jest.useFakeTimers();
    try {
      const gate = new SmallGate(new MetricsService(), { atOnce: 1, maxWaiting: 10, maxWaitMs: 100 });
      const first = held('first');
      const late = held('late');
      const running = gate.run(first.read);
      const waiting = gate.run(late.read);
      jest.advanceTimersByTime(150);
      await expect(waiting).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
      const after = gate.run(() => Promise.resolve('after'));
      first.finish();
      await expect(running).resolves.toBe('first');
      await expect(after).resolves.toBe('after');
      expect(late.started()).toBe(false);
    } finally {
      jest.useRealTimers();
    }
  });

  it('keeps first come first served through a long line (the served prefix is dropped on the way)', async () => {
    const gate = new SmallGate(new MetricsService(), { atOnce: 1, maxWaiting: 5000, maxWaitMs: 60_000 });
    const order: number[] = [];
    const all = Array.from({ length: 3000 }, (_, i) => gate.run(async () => void order.push(i)));
    await Promise.all(all);
    expect(order).toEqual(Array.from({ length: 3000 }, (_, i) => i));
  });

  it('on shutdown refuses the waiting readers at once, and every reader after, while the running ones finish', async () => {
    const gate = new SmallGate(new MetricsService(), { atOnce: 1, maxWaiting: 10, maxWaitMs: 60_000 });
    const first = held('first');
    const late = held('late');
    const running = gate.run(first.read);
    const waiting = gate.run(late.read);
    gate.beforeApplicationShutdown();
    await expect(waiting).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    await expect(gate.run(() => Promise.resolve('after'))).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    first.finish();
    await expect(running).resolves.toBe('first');
    expect(late.started()).toBe(false);
  });
});
