import { SessionExpiry } from './session-expiry';

describe('SessionExpiry', () => {
  const sessions = () => ({ a: { id: 'a' }, b: { id: 'b' }, c: { id: 'c' } });

  it('ends a session once its exp second has passed, not before', () => {
    let now = 10_000;
    const ended: string[] = [];
    const expiry = new SessionExpiry<{ id: string }>((session) => ended.push(session.id), () => now);
    const { a, b } = sessions();
    expiry.schedule(a, 11);
    expiry.schedule(b, 12);
    expiry.sweep();
    expect(ended).toEqual([]);
    now = 11_000;
    expiry.sweep();
    expect(ended).toEqual(['a']);
    now = 12_500;
    expiry.sweep();
    expect(ended).toEqual(['a', 'b']);
    expect(expiry.size).toBe(0);
    expiry.stop();
  });

  it('a cancelled session is not ended; a rescheduled one ends at its new exp', () => {
    let now = 0;
    const ended: string[] = [];
    const expiry = new SessionExpiry<{ id: string }>((session) => ended.push(session.id), () => now);
    const { a, b, c } = sessions();
    for (const session of [a, b, c]) expiry.schedule(session, 5);
    expiry.cancel(a, 5);
    // Cancelled at an exp it was not scheduled at: nothing changes.
    expiry.cancel(c, 6);
    expiry.cancel(b, 5);
    expiry.schedule(b, 60);
    now = 5_000;
    expiry.sweep();
    expect(ended).toEqual(['c']);
    expect(expiry.size).toBe(1);
    now = 60_000;
    expiry.sweep();
    expect(ended).toEqual(['c', 'b']);
    expiry.stop();
  });
});
