import { RecentIds } from './recent-ids';

describe('RecentIds (dedupe window)', () => {
  it('reports new ids once and duplicates afterwards', () => {
    const ids = new RecentIds(10);
    expect(ids.add('a')).toBe(true);
    expect(ids.add('b')).toBe(true);
    expect(ids.add('a')).toBe(false);
    expect(ids.add('b')).toBe(false);
  });

  it('stays bounded, evicting the least recently seen id', () => {
    const ids = new RecentIds(3);
    for (const id of ['a', 'b', 'c']) ids.add(id);
    expect(ids.add('a')).toBe(false); // a is now the most recent
    expect(ids.add('d')).toBe(true); // evicts b
    expect(ids.size).toBe(3);
    expect(ids.has('b')).toBe(false);
    expect(ids.has('a') && ids.has('c') && ids.has('d')).toBe(true);
  });

  it('holds memory flat over many ids', () => {
    const ids = new RecentIds(100);
    for (let i = 0; i < 10_000; i += 1) ids.add(`id-${i}`);
    expect(ids.size).toBe(100);
    expect(ids.add('id-9999')).toBe(false);
    expect(ids.add('id-0')).toBe(true);
  });

  it('refuses a capacity below one', () => {
    expect(() => new RecentIds(0)).toThrow(RangeError);
    expect(() => new RecentIds(1.5)).toThrow(RangeError);
  });
});
