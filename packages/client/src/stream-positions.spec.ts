import type { NotificationView } from '@notify-gateway/contracts';
import { StreamPositions } from './stream-positions';

const E = 'epochAAAA1';
const note = (stream: string, offset: number, epoch = E): NotificationView => ({
  id: `${stream}-${offset}-${epoch}`,
  cursor: String(offset),
  stream,
  offset: String(offset),
  epoch,
  scope: 'USER',
  title: 't',
  content: 'c',
  priority: 'medium',
  data: null,
  createdAt: new Date(0).toISOString(),
});
const U = 'user:11111111-1111-4111-8111-111111111111';
const T = 'tenant:22222222-2222-4222-8222-222222222222';

function tracked(): StreamPositions {
  const positions = new StreamPositions();
  positions.learn([
    { stream: U, epoch: E, offset: '10' },
    { stream: T, epoch: E, offset: '3' },
  ]);
  return positions;
}

describe('StreamPositions', () => {
  it('hands the next offset, drops what it holds, and holds what lies past a gap until it follows on', () => {
    const positions = tracked();
    expect(positions.live(note(U, 11))).toBe('next');
    positions.handed(note(U, 11));
    expect(positions.live(note(U, 11))).toBe('duplicate');
    expect(positions.live(note(U, 9))).toBe('duplicate');
    expect(positions.live(note(U, 14))).toBe('ahead');
    expect(positions.live(note(U, 13))).toBe('ahead');
    expect(positions.gaps()).toEqual([U]);
    expect(positions.release(U)).toEqual([]);
    // The gap's sync brings 12: now 13 and 14 follow on, in order, once.
    positions.handed(note(U, 12));
    expect(positions.release(U).map((n) => n.offset)).toEqual(['13', '14']);
    expect(positions.gaps()).toEqual([]);
    // Other streams are independent.
    expect(positions.live(note(T, 4))).toBe('next');
  });

  it('compares offsets as numbers and tells an epoch change apart', () => {
    const positions = new StreamPositions();
    positions.learn([{ stream: U, epoch: E, offset: '99' }]);
    expect(positions.live(note(U, 100))).toBe('next');
    expect(positions.live(note(U, 1, 'epochBBBB2'))).toBe('epoch-changed');
  });

  it('never moves a position back on an older answer, but a reset does', () => {
    const positions = tracked();
    positions.learn([{ stream: U, epoch: E, offset: '4' }]);
    expect(positions.encoded()).toBe(`u.${E}.10_t.${E}.3`);
    positions.resetTo({ stream: U, epoch: 'epochBBBB2', offset: '2' });
    expect(positions.encoded(U)).toBe('u.epochBBBB2.2');
  });

  it('resumes from an encoded position and refuses a malformed one', () => {
    const positions = new StreamPositions(`t.${E}.3_u.${E}.10`);
    expect(positions.known).toBe(true);
    expect(positions.encoded()).toBe(`u.${E}.10_t.${E}.3`);
    for (const bad of ['', 'u.short.1', `u.${E}.01`, `u.${E}.1_u.${E}.2`, `x.${E}.1`]) {
      expect(() => new StreamPositions(bad)).toThrow(RangeError);
    }
  });

  it('holds one stream per kind: a new tenant stream replaces the old one, so the position never names t twice', () => {
    const positions = tracked();
    const moved = 'tenant:33333333-3333-4333-8333-333333333333';
    expect(positions.live(note(T, 5))).toBe('ahead');
    positions.learn([{ stream: moved, epoch: 'epochBBBB2', offset: '7' }]);
    expect(positions.encoded()).toBe(`u.${E}.10_t.epochBBBB2.7`);
    expect(positions.tracks(T)).toBe(false);
    expect(positions.gaps()).toEqual([]);
    expect(() => new StreamPositions(positions.encoded())).not.toThrow();
  });

  it('tells a stream it holds no position in, and its lowest held offset, apart', () => {
    const positions = new StreamPositions();
    positions.learn([{ stream: U, epoch: E, offset: '10' }]);
    expect(positions.live(note(T, 6))).toBe('ahead');
    expect(positions.live(note(T, 4))).toBe('ahead');
    expect(positions.live(note(T, 2, 'epochBBBB2'))).toBe('ahead');
    expect(positions.tracks(T)).toBe(false);
    expect(positions.untracked()).toEqual([T]);
    expect(positions.lowestHeld(T, E)).toBe(4n);
    positions.forget(T);
    expect(positions.untracked()).toEqual([]);
  });

  it('sync pages hand only what is new', () => {
    const positions = tracked();
    expect(positions.synced(note(U, 10))).toBe(false);
    expect(positions.synced(note(U, 11))).toBe(true);
    expect(positions.synced(note('global', 1))).toBe(true);
  });
});
