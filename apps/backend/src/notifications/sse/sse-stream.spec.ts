import { EventEmitter } from 'node:events';
import type { NotificationView } from '@notify-gateway/contracts';
import type { Response } from 'express';
import type { PositionedPage } from '../notification-reader.js';
import type { Positions } from '../streams/stream-position.js';
import { GAP_GRACE_MS, SseStream, type SseStreamObserver } from './sse-stream.js';

/** Just enough of a ServerResponse: records writes; `stalled` makes them queue instead of flush. */
class FakeResponse extends EventEmitter {
  written = '';
  writableLength = 0;
  stalled = false;
  destroyed = false;
  closed = false;
  socket = null;
  ended = false;

  writeHead(): this {
    return this;
  }
  write(chunk: string): boolean {
    this.written += chunk;
    if (this.stalled) this.writableLength += Buffer.byteLength(chunk);
    return true;
  }
  end(): void {
    this.ended = true;
  }
  destroy(): void {
    this.destroyed = true;
    queueMicrotask(() => this.emit('close'));
  }
}

const EPOCH = 'epochAAAA1';
const view = (cursor: number, epoch = EPOCH): NotificationView => ({
  id: `id-${cursor}`,
  cursor: String(cursor),
  stream: 'user:u',
  offset: String(cursor),
  epoch,
  scope: 'USER',
  title: `t${cursor}`,
  content: 'c',
  priority: 'medium',
  data: null,
  createdAt: new Date(0).toISOString(),
});

function setup(maxBufferedBytes = 1 << 20) {
  const res = new FakeResponse();
  const events = { slow: [] as number[], expired: 0, closed: 0 };
  const observer: SseStreamObserver = {
    slowConsumer: (_stream, bytes) => events.slow.push(bytes),
    tokenExpired: () => (events.expired += 1),
    closed: () => (events.closed += 1),
  };
  const user = { userId: 'u', tenantId: 't', role: 'USER' as const, email: 'u@x', exp: Math.floor(Date.now() / 1000) + 3600 };
  const stream = new SseStream('s1', { user, ip: '127.0.0.1', rooms: ['user:u'] }, res as unknown as Response, { maxBufferedBytes, heartbeatMs: 60_000 }, observer);
  return { res, stream, events };
}

/** The offsets the ids (positions) of notification:new events name. */
const ids = (written: string): string[] =>
  [...written.matchAll(/^event: notification:new\nid: u\.epochAAAA1\.(\d+)$/gm)].map((match) => match[1] as string);

/** A store of offsets 1..last in stream user:u; `reads` records the positions asked for. */
function store(last: number, reads: bigint[] = [], epoch = EPOCH) {
  return async (from: Positions): Promise<PositionedPage> => {
    const mark = from.get('user:u') as { epoch: string; offset: bigint };
    reads.push(mark.offset);
    if (mark.epoch !== epoch) {
      return { items: [], hasMore: false, positions: new Map([['user:u', { epoch, offset: BigInt(last) }]]), reset: [{ stream: 'user:u', reason: 'EPOCH_CHANGED' }] };
    }
    const items: NotificationView[] = [];
    for (let offset = Number(mark.offset) + 1; offset <= last; offset += 1) items.push(view(offset, epoch));
    return { items, hasMore: false, positions: new Map([['user:u', { epoch, offset: BigInt(last) }]]), reset: [] };
  };
}
const at = (offset: number, epoch = EPOCH): Positions => new Map([['user:u', { epoch, offset: BigInt(offset) }]]);

describe('SseStream', () => {
  afterEach(() => jest.useRealTimers());

  it('holds live events during catch-up, then drops the replayed ones and keeps the rest, in order', async () => {
    const { res, stream } = setup();
    stream.open(true);
    // Live while the replay runs: 11 and 12 will also be replayed, 13 will not; read events always pass.
    stream.send('notification:new', view(11));
    stream.send('notification:read', { id: 'id-3' });
    stream.send('notification:new', view(12));
    stream.send('notification:new', view(13));
    expect(ids(res.written)).toEqual([]);

    stream.track(at(9), store(13));
    for (const cursor of [10, 11, 12]) expect(await stream.replay(view(cursor))).toBe(true);
    expect(await stream.goLive()).toBe(1);
    stream.send('notification:new', view(14));

    expect(ids(res.written)).toEqual(['10', '11', '12', '13', '14']);
    expect(res.written).toContain('event: notification:read\ndata: {"id":"id-3"}\n\n');
    expect(res.written.startsWith('retry: 3000\n\n')).toBe(true);
    stream.end('USER_DISCONNECTED');
  });

  it('compares offsets as numbers, not strings', async () => {
    const { res, stream } = setup();
    stream.open(true);
    stream.track(at(98), store(100));
    stream.send('notification:new', view(100));
    await stream.replay(view(99));
    await stream.goLive();
    expect(ids(res.written)).toEqual(['99', '100']);
    stream.end('USER_DISCONNECTED');
  });

  it('lets a gap close by itself when the missing offsets arrive within the grace, without reading', async () => {
    jest.useFakeTimers();
    const { res, stream } = setup();
    const reads: bigint[] = [];
    stream.open(true);
    stream.track(at(10), store(13, reads));
    await stream.goLive();
    stream.send('notification:new', view(13)); // 11 and 12 are still on their way
    stream.send('notification:new', view(11));
    expect(ids(res.written)).toEqual(['11']);
    stream.send('notification:new', view(12));
    expect(ids(res.written)).toEqual(['11', '12', '13']);
    await jest.advanceTimersByTimeAsync(GAP_GRACE_MS * 2);
    expect(reads).toEqual([]);
    stream.end('USER_DISCONNECTED');
  });

  it('reads a gap from the store once the grace has passed, and writes each offset once, in order', async () => {
    jest.useFakeTimers();
    const { res, stream } = setup();
    const reads: bigint[] = [];
    stream.open(true);
    stream.track(at(10), store(13, reads));
    await stream.goLive();
    stream.send('notification:new', view(13));
    stream.send('notification:new', view(11));
    expect(ids(res.written)).toEqual(['11']);
    await jest.advanceTimersByTimeAsync(GAP_GRACE_MS + 1);
    expect(ids(res.written)).toEqual(['11', '12', '13']);
    stream.send('notification:new', view(12)); // late: already read from the store
    stream.send('notification:new', view(14));
    expect(ids(res.written)).toEqual(['11', '12', '13', '14']);
    expect(reads).toEqual([11n]);
    expect(stream.position).toBe('u.epochAAAA1.14');
    stream.end('USER_DISCONNECTED');
  });

  it('announces a reset when the stream comes back under another epoch, and moves to the new position', async () => {
    const { res, stream } = setup();
    stream.open(true);
    jest.useFakeTimers();
    stream.track(at(40), store(3, [], 'epochBBBB2'));
    await stream.goLive();
    stream.send('notification:new', view(3, 'epochBBBB2'));
    await jest.advanceTimersByTimeAsync(GAP_GRACE_MS + 1);
    expect(res.written).toContain('event: notification:reset\nid: u.epochBBBB2.3\ndata: {"reset":[{"stream":"user:u","reason":"EPOCH_CHANGED"}],"position":"u.epochBBBB2.3"}');
    expect(ids(res.written)).toEqual([]);
    stream.send('notification:new', view(4, 'epochBBBB2'));
    expect(res.written).toContain('id: u.epochBBBB2.4\n');
    stream.end('USER_DISCONNECTED');
  });

  it('cuts a stream whose queue would pass the bound, and reports it once', async () => {
    const { res, stream, events } = setup(4096);
    stream.open(false);
    res.stalled = true;
    let sent = 0;
    while (stream.isOpen && sent < 100) {
      stream.send('notification:new', view(sent));
      sent += 1;
    }
    expect(stream.isOpen).toBe(false);
    expect(res.destroyed).toBe(true);
    expect(events.slow).toHaveLength(1);
    expect(events.slow[0]).toBeGreaterThan(4096);
    expect(stream.peakBufferedBytes).toBeLessThanOrEqual(4096);
    await new Promise((resolve) => setImmediate(resolve));
    expect(events.closed).toBe(1);
  });

  it('cuts a stream whose held-back events pass the bound during catch-up', () => {
    const { res, stream, events } = setup(2048);
    stream.open(true);
    for (let cursor = 1; cursor <= 20 && stream.isOpen; cursor += 1) stream.send('notification:new', view(cursor));
    expect(events.slow).toHaveLength(1);
    expect(res.destroyed).toBe(true);
  });

  it('ends with notification:session-expiring when the token expires', () => {
    jest.useFakeTimers();
    const { res, stream, events } = setup();
    (stream.session.user as { exp: number }).exp = Math.floor(Date.now() / 1000) + 2;
    stream.open(false);
    jest.advanceTimersByTime(2000);
    expect(events.expired).toBe(1);
    expect(res.written).toContain('event: notification:session-expiring\ndata: {"code":"TOKEN_EXPIRED"}\n\n');
    expect(res.ended).toBe(true);
  });
});
