import { randomUUID } from 'node:crypto';
import { NOTIFICATIONS_NAMESPACE } from '@notify-gateway/contracts';
import { Client } from 'pg';
import { io } from 'socket.io-client';
import { ConnectionService } from '../../src/notifications/connection.service';
import { freshUser, openStream, postNotification, type StreamClient, type TestUser } from '../support/sse';
import { collect, connect, request, settle, waitForDisconnect, type ClientSocket } from '../support/sockets';
import { ALLOWED_ORIGIN, startApp, type RunningApp } from '../support/test-app';
import { tokenFor } from '../support/users';

/**
 * A revocation that lands while a session is being admitted (handshake, SSE connect) or while an
 * `auth:refresh` is being verified: the token passed the revocation check, the session is not yet
 * where RevokedSessions looks. It must still end, not run on until the token's exp.
 *
 * The window is held open for real: the test takes an ACCESS EXCLUSIVE lock on `users`, so the
 * verifier's user read (after its revocation check) waits in PostgreSQL until the lock goes.
 */
describe('a revocation while a session is being admitted or refreshed', () => {
  let running: RunningApp;
  const sockets: ClientSocket[] = [];
  const streams: StreamClient[] = [];

  beforeAll(async () => {
    // No user-state cache: every verification reads the user (and so waits on the lock).
    running = await startApp({ USER_STATE_CACHE_TTL_MS: '0' });
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    for (const stream of streams) stream.close();
    await running?.close();
  });

  /** Holds `users` locked until the returned release is called; resolves once taken. */
  async function lockUsers(): Promise<{ waiting: () => Promise<void>; handOver: () => Promise<void>; release: () => Promise<void> }> {
    const client = new Client({ connectionString: process.env.TEST_DATABASE_URL });
    await client.connect();
    await client.query('BEGIN');
    await client.query('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
    return {
      // Until some query of the app waits on the lock: the verification is in flight.
      waiting: async () => {
        const deadline = Date.now() + 5000;
        for (;;) {
          const { rows } = await client.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'users' AND NOT l.granted`,
          );
          if (rows[0].n > 0) return;
          if (Date.now() > deadline) throw new Error('nothing waited on the users lock');
          await settle(10);
        }
      },
      // Lets the query waiting now through and takes the lock again in the same breath: queued
      // ahead of anything the app sends after that query answered.
      handOver: async () => {
        await client.query('ROLLBACK; BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
      },
      release: async () => {
        await client.query('ROLLBACK');
        await client.end();
      },
    };
  }

  const tokenWithJti = (user: TestUser): { token: string; jti: string; exp: number } => {
    const jti = randomUUID();
    const exp = Math.floor(Date.now() / 1000) + 900;
    return { token: user.token({ jwtid: jti, expiresIn: 900 }), jti, exp };
  };

  it('a socket whose token is revoked during its handshake is ended with TOKEN_REVOKED', async () => {
    const user = await freshUser('admin@acme.test');
    const { token, jti, exp } = tokenWithJti(user);
    const lock = await lockUsers();
    // Listening from the start: the notice may come in the same read as the connect.
    const socket: ClientSocket = io(running.url + NOTIFICATIONS_NAMESPACE, {
      auth: { token },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      extraHeaders: { origin: ALLOWED_ORIGIN },
    });
    sockets.push(socket);
    const notices = collect(socket, 'notification:session-expiring');
    const received = collect(socket, 'notification:new');
    const connectErrors: string[] = [];
    socket.on('connect_error', (error) => connectErrors.push(error.message));
    try {
      await lock.waiting();
      await running.app.get(ConnectionService).revokeToken(user.id, jti, exp);
    } finally {
      await lock.release();
    }
    await settle(300);
    await postNotification(running.url, await tokenFor('admin@acme.test'), { title: `after revocation ${randomUUID()}`, content: 'x', userId: user.id });
    await settle(1000);
    expect({ connected: socket.connected, received: received.length }).toEqual({ connected: false, received: 0 });
    // Refused outright (UNAUTHORIZED) or admitted and then told: either way, not left running.
    if (connectErrors.length === 0) expect(notices).toEqual([{ code: 'TOKEN_REVOKED' }]);
  });

  it('an SSE stream whose token is revoked during its connect is ended with TOKEN_REVOKED', async () => {
    const user = await freshUser('admin@acme.test');
    const { token, jti, exp } = tokenWithJti(user);
    const lock = await lockUsers();
    let opening: Promise<StreamClient>;
    try {
      opening = openStream(running.url, { token });
      await lock.waiting();
      await running.app.get(ConnectionService).revokeToken(user.id, jti, exp);
    } finally {
      await lock.release();
    }
    const stream = await opening;
    streams.push(stream);
    if (stream.status !== 200) return; // refused outright: as good as ended
    await postNotification(running.url, await tokenFor('admin@acme.test'), { title: `after revocation ${randomUUID()}`, content: 'x', userId: user.id });
    await settle(1000);
    expect(stream.messages.filter((message) => message.event === 'notification:new')).toEqual([]);
    expect(stream.messages.filter((message) => message.event === 'notification:session-expiring').map((message) => message.data)).toEqual([{ code: 'TOKEN_REVOKED' }]);
    expect(stream.isEnded()).toBe(true);
  });

  it('auth:refresh with a token revoked while it is verified is refused and ends the session', async () => {
    const user = await freshUser('admin@acme.test');
    const socket = await connect(running.url, { token: tokenWithJti(user).token });
    sockets.push(socket);
    const next = tokenWithJti(user);
    const lock = await lockUsers();
    let refreshing: Promise<unknown>;
    try {
      refreshing = request(socket, 'auth:refresh', { token: next.token });
      // The first read is WsSessionGuard's; the one after it is the verifier's, past its revocation check.
      await lock.waiting();
      await lock.handOver();
      await lock.waiting();
      await running.app.get(ConnectionService).revokeToken(user.id, next.jti, next.exp);
    } finally {
      await lock.release();
    }
    expect(await refreshing).toEqual({ ok: false, error: { code: 'UNAUTHORIZED', message: 'Unauthorized' } });
    await waitForDisconnect(socket, 2000);
  });
});
