import WebSocket from 'ws';
import { ConnectionService } from '../../src/notifications/connection.service';
import { UserAccountService } from '../../src/users/user-account.service';
import { connect, nextEvent, refusal, settle, waitForDisconnect } from '../support/sockets';
import { startApp, type RunningApp } from '../support/test-app';
import { demoUser, sql, tokenFor } from '../support/users';

describe('session lifetime', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp({ WS_AUTH_TIMEOUT_MS: '1000', JWT_CLOCK_TOLERANCE_SEC: '0' });
  });
  afterAll(() => running.close());

  it('closes a raw engine.io connection that never joins the namespace after WS_AUTH_TIMEOUT_MS', async () => {
    const ws = new WebSocket(`${running.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
    const frames: string[] = [];
    ws.on('message', (data: Buffer) => {
      const frame = data.toString();
      frames.push(frame);
      if (frame === '2') ws.send('3'); // answer pings: only the missing namespace join may close it
    });
    const closed = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 6000);
      ws.on('close', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    expect(frames[0]?.startsWith('0{')).toBe(true);
    expect(closed).toBe(true);
  });

  it('a token that expires while connected loses the connection, with TOKEN_EXPIRED first', async () => {
    const socket = await connect(running.url, { token: await tokenFor('user@acme.test', { expiresIn: 2 }) });
    const notice = nextEvent(socket, 'notification:session-expiring', 6000);
    const disconnected = waitForDisconnect(socket, 6000);
    expect(await notice).toEqual({ code: 'TOKEN_EXPIRED' });
    expect(await disconnected).toBe('io server disconnect');
    expect(running.logs.securityEvents('TOKEN_EXPIRED').length).toBeGreaterThan(0);
  });

  it('a deactivated user is cut off on demand and cannot come back', async () => {
    const user = await demoUser('user@globex.test');
    const token = await tokenFor('user@globex.test');
    const first = await connect(running.url, { token });
    const second = await connect(running.url, { token });
    const control = await connect(running.url, { token: await tokenFor('admin@globex.test') });
    try {
      const notices = [nextEvent(first, 'notification:session-expiring'), nextEvent(second, 'notification:session-expiring')];
      await running.app.get(UserAccountService).deactivate(user.id);
      expect(await Promise.all(notices)).toEqual([{ code: 'USER_DISCONNECTED' }, { code: 'USER_DISCONNECTED' }]);
      await Promise.all([waitForDisconnect(first), waitForDisconnect(second)]);
      expect(await refusal(running.url, { token })).toBe('UNAUTHORIZED');
      await settle(100);
      expect(control.connected).toBe(true);
    } finally {
      await sql('UPDATE users SET is_active = true WHERE id = $1', [user.id]);
      control.close();
    }
  });

  it('ConnectionService.disconnectUser ends the sessions of an active user too', async () => {
    const token = await tokenFor('admin@globex.test');
    const socket = await connect(running.url, { token });
    const notice = nextEvent(socket, 'notification:session-expiring');
    const gone = waitForDisconnect(socket);
    running.app.get(ConnectionService).disconnectUser((await demoUser('admin@globex.test')).id, 'USER_DISCONNECTED');
    expect(await notice).toEqual({ code: 'USER_DISCONNECTED' });
    expect(await gone).toBe('io server disconnect');
  });
});
