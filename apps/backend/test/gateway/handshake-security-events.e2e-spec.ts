import { UserAccountService } from '../../src/users/user-account.service';
import { connect, refusal, settle } from '../support/sockets';
import { startApp, type RunningApp } from '../support/test-app';
import { demoUser, tokenFor } from '../support/users';

/** The security lines of one socket handshake: AUTHENTICATION_SUCCESS, then one WEBSOCKET_CONNECT carrying the rooms. */
describe('security events of a socket handshake', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp();
  });
  afterAll(() => running.close());

  const linesOf = (clientId: string, event?: string) => running.logs.securityEvents(event).filter((entry) => entry.clientId === clientId);

  it('a SUPER_ADMIN handshake writes AUTHENTICATION_SUCCESS and one WEBSOCKET_CONNECT with every room, and no ROOM_JOIN', async () => {
    const root = await demoUser('root@platform.test');
    const socket = await connect(running.url, { token: await tokenFor('root@platform.test') });
    try {
      const clientId = socket.id ?? '';
      await settle(100);
      expect(linesOf(clientId).map((entry) => entry.event)).toEqual(['AUTHENTICATION_SUCCESS', 'WEBSOCKET_CONNECT']);
      expect(linesOf(clientId, 'WEBSOCKET_CONNECT')[0]).toMatchObject({
        msg: 'SECURITY',
        userId: root.id,
        tenantId: root.tenantId,
        transport: 'websocket',
        via: 'websocket',
        rooms: [`user:${root.id}`, `tenant:${root.tenantId}`, 'global'],
      });
      expect(linesOf(clientId, 'ROOM_JOIN')).toEqual([]);
    } finally {
      socket.close();
    }
  });

  it('a refused handshake writes no WEBSOCKET_CONNECT', async () => {
    const inactive = await demoUser('inactive@acme.test');
    expect(await refusal(running.url, { token: await tokenFor('inactive@acme.test') })).toBe('UNAUTHORIZED');
    await settle(100);
    expect(running.logs.securityEvents('WEBSOCKET_CONNECT').filter((entry) => entry.userId === inactive.id)).toEqual([]);
  });

  it('a room joined after the handshake (a role change) is a ROOM_JOIN line', async () => {
    const user = await demoUser('user@globex.test');
    const socket = await connect(running.url, { token: await tokenFor('user@globex.test') });
    try {
      const clientId = socket.id ?? '';
      await settle(100);
      expect(linesOf(clientId, 'WEBSOCKET_CONNECT')[0]).toMatchObject({ rooms: [`user:${user.id}`] });
      await running.app.get(UserAccountService).changeRole(user.id, 'ADMIN');
      for (const deadline = Date.now() + 2000; Date.now() < deadline && linesOf(clientId, 'ROOM_JOIN').length === 0; ) await settle(50);
      expect(linesOf(clientId, 'ROOM_JOIN')).toEqual([expect.objectContaining({ userId: user.id, room: `tenant:${user.tenantId}`, reason: 'role or tenant change' })]);
    } finally {
      socket.close();
      await running.app.get(UserAccountService).changeRole(user.id, 'USER');
    }
  });
});
