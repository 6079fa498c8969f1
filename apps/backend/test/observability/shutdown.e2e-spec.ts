import { publish, uniqueTitle } from '../support/http';
import { ServerProcess } from '../support/server-process';
import { connect, nextEvent, settle, waitForDisconnect } from '../support/sockets';
import { demoUser, sql, tokenFor } from '../support/users';

describe('graceful shutdown on SIGTERM during traffic', () => {
  it('tells clients to reconnect, drains, exits 0 within the bound, and every 201 is stored', async () => {
    const server = await ServerProcess.start({ SHUTDOWN_TIMEOUT_MS: '8000' });
    try {
      const userId = (await demoUser('user@acme.test')).id;
      const admin = await tokenFor('admin@acme.test');
      const sockets = await Promise.all([0, 1, 2].map(async () => connect(server.url, { token: await tokenFor('user@acme.test') })));
      const notices = sockets.map((socket) => nextEvent(socket, 'notification:session-expiring', 10_000));
      const reasons = sockets.map((socket) => waitForDisconnect(socket, 10_000));

      const accepted: string[] = [];
      let stop = false;
      const traffic = (async () => {
        for (let i = 0; i < 500 && !stop; i += 1) {
          const response = await publish(server.url, admin, { title: uniqueTitle('shutdown'), content: 'c', scope: 'USER', userId }).catch(() => undefined);
          if (response?.status === 201 && typeof response.body.id === 'string') accepted.push(response.body.id);
          await settle(5);
        }
      })();

      await settle(300);
      const signalledAt = Date.now();
      server.child.kill('SIGTERM');
      const exit = await server.waitForExit(10_000);
      const tookMs = Date.now() - signalledAt;
      stop = true;
      await traffic;

      expect({ exit, output: exit.code === 0 ? '' : server.output }).toEqual({ exit: { code: 0, signal: null }, output: '' });
      expect(tookMs).toBeLessThan(10_000);
      // Three sockets: the shortest spread (drain-hint.ts).
      expect(await Promise.all(notices)).toEqual(sockets.map(() => ({ code: 'SERVER_SHUTDOWN', reconnectWithinMs: 1000 })));
      // A dropped transport (not a server-side disconnect): socket.io-client reconnects by itself.
      expect(await Promise.all(reasons)).toEqual(sockets.map(() => 'transport close'));

      expect(accepted.length).toBeGreaterThan(0);
      const stored = await sql<{ id: string }>('SELECT id FROM notifications WHERE id = ANY($1::uuid[])', [accepted]);
      process.stdout.write(`shutdown: answered 201 ${accepted.length} / stored ${stored.length} / exit after ${tookMs} ms\n`);
      expect(stored.length).toBe(accepted.length);
    } finally {
      server.crash();
    }
  }, 60_000);
});
