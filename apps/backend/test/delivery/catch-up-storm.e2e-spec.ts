import { CATCH_UP_CONCURRENCY, NotificationReader } from '../../src/notifications/notification-reader';
import { NotificationService } from '../../src/notifications/notification.service';
import { connect, request, type ClientSocket } from '../support/sockets';
import { startApp, type RunningApp } from '../support/test-app';
import { demoUser, tokenFor } from '../support/users';

const SOCKETS = 10;
const SYNCS_PER_SOCKET = 10;
const BACKLOG = 20;

/**
 * A reconnect storm: many clients catch up from the same position at once. The reads queue in
 * the instance's catch-up gate (never more than CATCH_UP_CONCURRENCY on the pool), every one
 * still gets the whole backlog, and a publish issued in the middle of the storm is committed.
 */
describe('a catch-up storm on one instance', () => {
  let running: RunningApp;
  const sockets: ClientSocket[] = [];

  beforeAll(async () => {
    running = await startApp();
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await running.close();
  });

  it('bounds concurrent reads, queues the rest, and every reader gets the whole backlog', async () => {
    const admin = await demoUser('admin@acme.test');
    const service = running.app.get(NotificationService);
    const gate = running.app.get(NotificationReader).catchUps;
    for (let i = 0; i < SOCKETS; i += 1) sockets.push(await connect(running.url, { token: await tokenFor('admin@acme.test') }));

    const start = await request(sockets[0], 'notification:sync', {});
    if (!start.ok || !start.position) throw new Error('no start position');
    const backlog = [];
    for (let i = 0; i < BACKLOG; i += 1) backlog.push(await service.sendToTenant(admin.tenantId, { title: `storm ${i}`, content: 'c' }));
    const expected = backlog.map((n) => n.id);

    const before = gate.stats;
    const syncs = sockets.flatMap((socket) => Array.from({ length: SYNCS_PER_SOCKET }, () => request(socket, 'notification:sync', { position: start.position, limit: 100 }, 30_000)));
    const published = service.sendToTenant(admin.tenantId, { title: 'during the storm', content: 'c' });
    const acks = await Promise.all(syncs);
    await expect(published).resolves.toMatchObject({ title: 'during the storm' });

    for (const ack of acks) {
      if (!ack.ok) throw new Error(ack.error.code);
      // The backlog in order, each once; the one published mid-storm may or may not follow it.
      expect(ack.notifications.slice(0, BACKLOG).map((n) => n.id)).toEqual(expected);
    }
    const after = gate.stats;
    process.stdout.write(`catch-up gate: ${SOCKETS * SYNCS_PER_SOCKET} syncs, peak ${after.peakActive} reading, peak ${after.peakWaiting} waiting\n`);
    expect(before.peakWaiting).toBe(0);
    expect(after.peakActive).toBe(CATCH_UP_CONCURRENCY);
    // They did queue: a gate that let every read through would leave this at 0.
    expect(after.peakWaiting).toBeGreaterThan(SOCKETS);
    expect(after).toMatchObject({ active: 0, waiting: 0 });
  }, 60_000);
});
