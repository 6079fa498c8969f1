import { io } from 'socket.io-client';
import { call } from '../adversarial/http';
import { NS } from '../adversarial/raw';
import type { ClientSocket } from '../support/sockets';
import { ALLOWED_ORIGIN, startApp, type RunningApp } from '../support/test-app';
import { tokenFor } from '../support/users';

/**
 * A finding of docs/SECURITY.md, behind a proxy: with TRUST_PROXY=1 the peer an engine.io session is bound
 * to is the client address the proxy forwards, so two clients behind one proxy cannot use each
 * other's sid; and a polling client that stays where it is keeps working, upgrade included.
 */
describe('engine.io sessions are bound to the forwarded client address (TRUST_PROXY=1)', () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp({ TRUST_PROXY: '1' });
  });
  afterAll(() => app.close());

  const path = (sid?: string): string => `/socket.io/?EIO=4&transport=polling${sid ? `&sid=${encodeURIComponent(sid)}` : ''}`;
  const from = (client: string) => ({ headers: { 'x-forwarded-for': client }, timeoutMs: 3000 });
  const post = (sid: string, client: string, body: string) =>
    call(app.url, path(sid), { body, headers: { 'x-forwarded-for': client, 'content-type': 'text/plain;charset=UTF-8' }, timeoutMs: 3000 });

  it('refuses the sid from another forwarded client like an unknown one, and serves its own client', async () => {
    const token = await tokenFor('user@acme.test');
    const handshake = await call(app.url, path(), from('203.0.113.1'));
    const sid = (JSON.parse(handshake.text.slice(1)) as { sid: string }).sid;
    expect((await post(sid, '203.0.113.1', `40${NS},${JSON.stringify({ token })}`)).status).toBe(200);

    const stolen = await call(app.url, path(sid), from('203.0.113.2'));
    expect([stolen.status, stolen.body]).toEqual([400, { code: 1, message: 'Session ID unknown' }]);
    expect(app.logs.securityEvents('SECURITY_VIOLATION').some((entry) => entry.ip === '203.0.113.2' && entry.transport === 'polling')).toBe(true);

    const own = await call(app.url, path(sid), from('203.0.113.1'));
    expect(own.status).toBe(200);
    expect(own.text).toContain(`40${NS},{"sid":`);
    await post(sid, '203.0.113.1', '1');
  });

  it('a socket.io-client starting on polling upgrades to websocket on its own session', async () => {
    const socket: ClientSocket = io(app.url + NS, {
      auth: { token: await tokenFor('user@acme.test') },
      transports: ['polling', 'websocket'],
      reconnection: false,
      forceNew: true,
      extraHeaders: { origin: ALLOWED_ORIGIN },
    });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
      const engine = socket.io.engine;
      if (engine.transport.name !== 'websocket') await new Promise((resolve) => engine.once('upgrade', resolve));
      expect(engine.transport.name).toBe('websocket');
      expect(socket.connected).toBe(true);
    } finally {
      socket.close();
    }
  });
});
