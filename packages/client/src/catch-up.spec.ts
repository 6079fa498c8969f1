import type { NotificationView } from '@notify-gateway/contracts';
import { catchUp, type SyncPage } from './catch-up';

const note = (cursor: number): NotificationView => ({
  id: `id-${cursor}`,
  cursor: String(cursor),
  scope: 'USER',
  title: `t${cursor}`,
  content: 'c',
  priority: 'medium',
  data: null,
  createdAt: new Date(0).toISOString(),
});

/** A server holding notifications 1..total that pages like notification:sync. */
function server(total: number, pageSize: number): { fetch: (after: string | undefined) => Promise<SyncPage>; calls: (string | undefined)[] } {
  const calls: (string | undefined)[] = [];
  return {
    calls,
    fetch: async (after) => {
      calls.push(after);
      const from = after === undefined ? 0 : Number(after);
      const notifications = Array.from({ length: Math.max(0, Math.min(pageSize, total - from)) }, (_, i) => note(from + i + 1));
      return { notifications, cursor: notifications.at(-1)?.cursor ?? after ?? null, hasMore: from + notifications.length < total };
    },
  };
}

describe('catchUp', () => {
  it('pages while hasMore, from the cursor of each page, in order', async () => {
    const fake = server(250, 100);
    const received: string[] = [];
    const result = await catchUp('0', fake.fetch, (n) => received.push(n.cursor));
    expect(result).toEqual({ received: 250, complete: true });
    expect(fake.calls).toEqual(['0', '100', '200']);
    expect(received).toEqual(Array.from({ length: 250 }, (_, i) => String(i + 1)));
  });

  it('starts from the beginning without a cursor and stops on an empty page', async () => {
    const fake = server(0, 100);
    expect(await catchUp(undefined, fake.fetch, () => undefined)).toEqual({ received: 0, complete: true });
    expect(fake.calls).toEqual([undefined]);
  });

  it('does not loop when the server says hasMore without moving the cursor', async () => {
    let calls = 0;
    const stuck = async (): Promise<SyncPage> => {
      calls += 1;
      return { notifications: [], cursor: '7', hasMore: true };
    };
    expect(await catchUp('7', stuck, () => undefined)).toEqual({ received: 0, complete: true });
    expect(calls).toBe(1);
  });

  it('stops as incomplete when told to, e.g. the connection changed', async () => {
    const fake = server(300, 100);
    let pages = 0;
    const result = await catchUp('0', fake.fetch, () => undefined, () => pages++ < 2);
    expect(result.complete).toBe(false);
    expect(fake.calls).toEqual(['0']);
  });

  it('propagates a failing page', async () => {
    await expect(catchUp('0', () => Promise.reject(new Error('RATE_LIMITED')), () => undefined)).rejects.toThrow('RATE_LIMITED');
  });
});
