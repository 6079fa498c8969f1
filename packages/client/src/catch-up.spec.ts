import type { NotificationView, SyncPayload } from '@notify-gateway/contracts';
import { catchUp, type SyncPage } from './catch-up';

const EPOCH = 'epochAAAA1';
const note = (offset: number): NotificationView => ({
  id: `id-${offset}`,
  cursor: String(offset),
  stream: 'user:u',
  offset: String(offset),
  epoch: EPOCH,
  scope: 'USER',
  title: `t${offset}`,
  content: 'c',
  priority: 'medium',
  data: null,
  createdAt: new Date(0).toISOString(),
});

/** A server holding offsets 1..total of one stream that pages like notification:sync. */
function server(total: number, pageSize: number): { fetch: (request: SyncPayload) => Promise<SyncPage>; calls: SyncPayload[] } {
  const calls: SyncPayload[] = [];
  return {
    calls,
    fetch: async (request) => {
      calls.push(request);
      const from = typeof request.position === 'string' ? Number(request.position.split('.')[2]) : Number(request.after ?? 0);
      const notifications = Array.from({ length: Math.max(0, Math.min(pageSize, total - from)) }, (_, i) => note(from + i + 1));
      const offset = String(from + notifications.length);
      return { notifications, hasMore: from + notifications.length < total, position: `u.${EPOCH}.${offset}`, streams: [{ stream: 'user:u', epoch: EPOCH, offset }], reset: [] };
    },
  };
}

describe('catchUp', () => {
  it('pages while hasMore, each page from the position the previous one ended at, in order', async () => {
    const fake = server(250, 100);
    const received: string[] = [];
    const result = await catchUp({ after: '0' }, fake.fetch, (page) => void received.push(...page.notifications.map((n) => n.offset)));
    expect(result).toEqual({ received: 250, complete: true });
    expect(fake.calls).toEqual([{ after: '0' }, { position: `u.${EPOCH}.100` }, { position: `u.${EPOCH}.200` }]);
    expect(received).toEqual(Array.from({ length: 250 }, (_, i) => String(i + 1)));
  });

  it('stops on an empty page', async () => {
    const fake = server(0, 100);
    expect(await catchUp({ after: '0' }, fake.fetch, () => undefined)).toEqual({ received: 0, complete: true });
    expect(fake.calls).toHaveLength(1);
  });

  it('does not loop when the server says hasMore without moving the position', async () => {
    let calls = 0;
    const stuck = async (): Promise<SyncPage> => {
      calls += 1;
      return { notifications: [], hasMore: true, position: `u.${EPOCH}.7`, streams: [], reset: [] };
    };
    expect(await catchUp({ position: `u.${EPOCH}.7` }, stuck, () => undefined)).toEqual({ received: 0, complete: true });
    expect(calls).toBe(2);
  });

  it('stops as incomplete when told to, e.g. the connection changed', async () => {
    const fake = server(300, 100);
    let checks = 0;
    const result = await catchUp({ after: '0' }, fake.fetch, () => undefined, () => checks++ < 2);
    expect(result.complete).toBe(false);
    expect(fake.calls).toEqual([{ after: '0' }]);
  });

  it('propagates a failing page', async () => {
    await expect(catchUp({ after: '0' }, () => Promise.reject(new Error('RATE_LIMITED')), () => undefined)).rejects.toThrow('RATE_LIMITED');
  });
});
