import { PendingAcks } from './pending-acks';

describe('PendingAcks', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('resolves with the acknowledgement', async () => {
    const acks = new PendingAcks(1000);
    await expect(acks.request<number>((done) => done(42))).resolves.toBe(42);
    expect(acks.size).toBe(0);
  });

  it('fails with TIMEOUT when no acknowledgement comes', async () => {
    const acks = new PendingAcks(1000);
    const request = acks.request<number>(() => undefined);
    jest.advanceTimersByTime(1000);
    await expect(request).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(acks.size).toBe(0);
  });

  it('fails every waiting request at once on a disconnect, and ignores a late acknowledgement', async () => {
    const acks = new PendingAcks(10_000);
    let late: ((value: number) => void) | undefined;
    const first = acks.request<number>((done) => {
      late = done;
    });
    const second = acks.request<number>(() => undefined);
    acks.failAll('disconnected: transport close');
    await expect(first).rejects.toMatchObject({ code: 'TRANSPORT_ERROR', message: 'disconnected: transport close' });
    await expect(second).rejects.toMatchObject({ code: 'TRANSPORT_ERROR' });
    late?.(1);
    expect(acks.size).toBe(0);
  });
});
