import type { NotificationView } from '@notify-gateway/contracts';
import { NotificationService } from '../../src/notifications/notification.service';
import { connect, request, type ClientSocket } from '../support/sockets';
import { startApp, type RunningApp } from '../support/test-app';
import { demoUser, tokenFor } from '../support/users';

const PUBLISHERS = 8;
const PER_PUBLISHER = 40;

/** Pulls while the publishers run, then until a pull brings nothing new (at most 200 more). */
async function pullUntilQuiet(pull: () => Promise<void>, seen: readonly unknown[], publishing: () => boolean): Promise<void> {
  while (publishing()) await pull();
  for (let i = 0; i < 200; i += 1) {
    const before = seen.length;
    await pull();
    if (seen.length === before) break;
  }
}

/**
 * Concurrent transactions commit out of order; a cursor that trusted sequence numbers alone
 * would let a syncing client skip a late commit. Clients here sync in a tight loop while eight
 * publishers insert, and must end with every notification exactly once.
 */
describe('eight concurrent publishers while clients repeatedly sync', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp();
  });
  afterAll(() => running.close());

  it('every client ends with every notification meant for it, exactly once, no gaps', async () => {
    const user = await demoUser('user@globex.test');
    const service = running.app.get(NotificationService);
    const sockets: ClientSocket[] = [];
    for (let i = 0; i < 3; i += 1) sockets.push(await connect(running.url, { token: await tokenFor('user@globex.test') }));

    // Start after everything already stored.
    const start = await request(sockets[0], 'notification:sync', { after: '9223372036854775807' });
    expect(start).toMatchObject({ ok: true, notifications: [] });
    const startCursor = await latestCursor(sockets[0]);

    let publishing = true;
    const published: NotificationView[] = [];
    const publishers = Array.from({ length: PUBLISHERS }, async (_, p) => {
      for (let i = 0; i < PER_PUBLISHER; i += 1) {
        published.push(await service.sendToUser(user.id, { title: `p${p}-${i}`, content: 'c' }));
      }
    });
    const syncers = sockets.map(async (socket) => {
      const seen: NotificationView[] = [];
      let cursor = startCursor;
      const pull = async (): Promise<void> => {
        const ack = await request(socket, 'notification:sync', { after: cursor, limit: 7 });
        if (!ack.ok) throw new Error(ack.error.code);
        seen.push(...ack.notifications);
        cursor = ack.cursor ?? cursor;
      };
      await pullUntilQuiet(pull, seen, () => publishing);
      return seen;
    });
    await Promise.all(publishers);
    publishing = false;
    const results = await Promise.all(syncers);

    const expected = published.map((n) => n.id).sort();
    for (const [index, seen] of results.entries()) {
      const ids = seen.map((n) => n.id);
      const cursors = seen.map((n) => BigInt(n.cursor));
      process.stdout.write(`syncer ${index}: published ${expected.length} / received ${ids.length} / duplicates ${ids.length - new Set(ids).size} / lost ${expected.filter((id) => !ids.includes(id)).length}\n`);
      expect([...ids].sort()).toEqual(expected);
      expect(cursors.every((c, i) => i === 0 || c > cursors[i - 1])).toBe(true);
    }
    for (const socket of sockets) socket.close();
  }, 60_000);

  it('by position over three streams (user, tenant, global): every notification once, each stream dense and in order', async () => {
    const root = await demoUser('root@platform.test');
    const service = running.app.get(NotificationService);
    const sockets: ClientSocket[] = [];
    for (let i = 0; i < 3; i += 1) sockets.push(await connect(running.url, { token: await tokenFor('root@platform.test') }));

    // The latest page names the current position of all three streams.
    const start = await request(sockets[0], 'notification:sync', { limit: 1 });
    if (!start.ok) throw new Error(start.error.code);
    expect(start.streams.map((s) => s.stream).sort()).toEqual(['global', `tenant:${root.tenantId}`, `user:${root.id}`].sort());

    let publishing = true;
    const published: NotificationView[] = [];
    const publishers = Array.from({ length: PUBLISHERS }, async (_, p) => {
      for (let i = 0; i < PER_PUBLISHER / 2; i += 1) {
        const input = { title: `q${p}-${i}`, content: 'c' };
        const kind = (p + i) % 3;
        published.push(await (kind === 0 ? service.sendToUser(root.id, input) : kind === 1 ? service.sendToTenant(root.tenantId, input) : service.sendGlobal(input)));
      }
    });
    const syncers = sockets.map(async (socket) => {
      const seen: NotificationView[] = [];
      let position = start.position;
      const pull = async (): Promise<void> => {
        const ack = await request(socket, 'notification:sync', { position, limit: 7 });
        if (!ack.ok) throw new Error(ack.error.code);
        expect(ack.reset).toEqual([]);
        seen.push(...ack.notifications);
        position = ack.position;
      };
      await pullUntilQuiet(pull, seen, () => publishing);
      return seen;
    });
    await Promise.all(publishers);
    publishing = false;
    const results = await Promise.all(syncers);

    // Other tests may publish to the tenant and global streams too: judge what this test published.
    const expected = published.map((n) => n.id).sort();
    const mine = new Set(expected);
    for (const seen of results) {
      const ids = seen.map((n) => n.id);
      expect(ids.filter((id) => mine.has(id)).sort()).toEqual(expected);
      expect(new Set(ids).size).toBe(ids.length);
      // Within each stream: offsets consecutive, from the start position on.
      for (const stream of new Set(seen.map((n) => n.stream))) {
        const offsets = seen.filter((n) => n.stream === stream).map((n) => BigInt(n.offset));
        const from = BigInt(start.streams.find((s) => s.stream === stream)?.offset ?? '0');
        expect(offsets).toEqual(offsets.map((_, i) => from + BigInt(i) + 1n));
      }
    }
    for (const socket of sockets) socket.close();
  }, 60_000);
});

async function latestCursor(socket: ClientSocket): Promise<string> {
  let cursor = '0';
  for (let page = 0; page < 1000; page += 1) {
    const ack = await request(socket, 'notification:sync', { after: cursor, limit: 100 });
    if (!ack.ok) throw new Error(ack.error.code);
    cursor = ack.cursor ?? cursor;
    if (!ack.hasMore) return cursor;
  }
  return cursor;
}
