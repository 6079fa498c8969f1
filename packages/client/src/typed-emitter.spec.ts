import { TypedEmitter } from './typed-emitter';

interface Events {
  count: number;
  name: string;
}

describe('TypedEmitter', () => {
  it('delivers to listeners until they are removed', () => {
    const emitter = new TypedEmitter<Events>();
    const counts: number[] = [];
    const off = emitter.on('count', (n) => counts.push(n));
    emitter.emit('count', 1);
    off();
    emitter.emit('count', 2);
    expect(counts).toEqual([1]);
    expect(emitter.listenerCount('count')).toBe(0);
  });

  it('once fires a single time', () => {
    const emitter = new TypedEmitter<Events>();
    const names: string[] = [];
    emitter.once('name', (name) => names.push(name));
    emitter.emit('name', 'a');
    emitter.emit('name', 'b');
    expect(names).toEqual(['a']);
  });

  it('a throwing listener does not stop the others', () => {
    jest.useFakeTimers();
    try {
      const emitter = new TypedEmitter<Events>();
      const seen: number[] = [];
      emitter.on('count', () => {
        throw new Error('app bug');
      });
      emitter.on('count', (n) => seen.push(n));
      emitter.emit('count', 7);
      expect(seen).toEqual([7]);
      expect(() => jest.runOnlyPendingTimers()).toThrow('app bug');
    } finally {
      jest.useRealTimers();
    }
  });
});
