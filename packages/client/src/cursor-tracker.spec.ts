import { CursorTracker, parseCursor } from './cursor-tracker';

describe('CursorTracker', () => {
  it('parses cursors as BigInt, beyond Number precision', () => {
    expect(parseCursor('9223372036854775807')).toBe(9223372036854775807n);
    expect(parseCursor('')).toBeUndefined();
    expect(parseCursor('-1')).toBeUndefined();
    expect(parseCursor('12abc')).toBeUndefined();
    expect(parseCursor('12345678901234567890')).toBeUndefined();
  });

  it('starts from the given cursor, or from the beginning', () => {
    expect(new CursorTracker().value).toBeUndefined();
    expect(new CursorTracker('42').value).toBe('42');
    expect(() => new CursorTracker('nope')).toThrow(RangeError);
  });

  it('keeps the maximum numerically, not as text', () => {
    const tracker = new CursorTracker();
    tracker.completed();
    tracker.live('9');
    tracker.live('10');
    tracker.live('2');
    expect(tracker.value).toBe('10');
    tracker.live('9007199254740993');
    tracker.live('9007199254740992');
    expect(tracker.value).toBe('9007199254740993');
  });

  it('advances on sync pages at once: they are contiguous', () => {
    const tracker = new CursorTracker('5');
    tracker.synced('6');
    tracker.synced('8');
    expect(tracker.value).toBe('8');
  });

  it('holds back live cursors until a catch-up completes: they may be ahead of a gap', () => {
    const tracker = new CursorTracker('5');
    tracker.live('50'); // received while 6..49 are still unknown
    expect(tracker.value).toBe('5');
    tracker.synced('20');
    expect(tracker.value).toBe('20');
    tracker.completed();
    expect(tracker.value).toBe('50');
    expect(tracker.isCaughtUp).toBe(true);
  });

  it('after a disconnect the next catch-up starts from what is known to be complete', () => {
    const tracker = new CursorTracker('5');
    tracker.completed();
    tracker.live('6');
    tracker.behind(); // disconnected
    tracker.synced('7'); // partial page of the next catch-up, then the connection drops again
    tracker.behind();
    tracker.live('30');
    expect(tracker.value).toBe('7');
  });

  it('ignores malformed cursors', () => {
    const tracker = new CursorTracker('5');
    tracker.synced('x');
    tracker.completed();
    tracker.live('');
    expect(tracker.value).toBe('5');
  });
});
