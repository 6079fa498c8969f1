import { connect, refusal, settle, type ClientSocket } from '../support/sockets';
import { startApp, type RunningApp } from '../support/test-app';
import { tokenFor } from '../support/users';

async function closeAndSettle(socket: ClientSocket): Promise<void> {
  socket.close();
  await settle(150);
}

describe('connection caps refuse past the limit and let in again after a disconnect', () => {
  const apps: RunningApp[] = [];
  afterAll(async () => {
    for (const app of apps) await app.close();
  });
  const start = async (env: Record<string, string>): Promise<RunningApp> => {
    const app = await startApp(env);
    apps.push(app);
    return app;
  };

  it('MAX_WEBSOCKET_CONNECTIONS is a hard per-instance cap', async () => {
    const app = await start({ MAX_WEBSOCKET_CONNECTIONS: '3' });
    const sockets = [
      await connect(app.url, { token: await tokenFor('user@acme.test') }),
      await connect(app.url, { token: await tokenFor('admin@acme.test') }),
      await connect(app.url, { token: await tokenFor('user@globex.test') }),
    ];
    expect(await refusal(app.url, { token: await tokenFor('root@platform.test') })).toBe('CONNECTION_LIMIT');
    await closeAndSettle(sockets[0]);
    const again = await connect(app.url, { token: await tokenFor('root@platform.test') });
    expect(again.connected).toBe(true);
    expect(app.logs.securityEvents('CONNECTION_LIMIT_EXCEEDED').some((e) => e.reason === 'instance')).toBe(true);
    for (const socket of [...sockets, again]) socket.close();
  });

  it('MAX_CONNECTIONS_PER_USER', async () => {
    const app = await start({ MAX_CONNECTIONS_PER_USER: '2' });
    const token = await tokenFor('user@acme.test');
    const [first, second] = [await connect(app.url, { token }), await connect(app.url, { token })];
    expect(await refusal(app.url, { token })).toBe('CONNECTION_LIMIT');
    const other = await connect(app.url, { token: await tokenFor('admin@acme.test') });
    await closeAndSettle(first);
    const again = await connect(app.url, { token });
    expect(again.connected).toBe(true);
    expect(app.logs.securityEvents('CONNECTION_LIMIT_EXCEEDED').some((e) => e.reason === 'user')).toBe(true);
    for (const socket of [second, other, again]) socket.close();
  });

  it('MAX_CONNECTIONS_PER_IP', async () => {
    const app = await start({ MAX_CONNECTIONS_PER_IP: '2' });
    const sockets = [
      await connect(app.url, { token: await tokenFor('user@acme.test') }),
      await connect(app.url, { token: await tokenFor('admin@acme.test') }),
    ];
    expect(await refusal(app.url, { token: await tokenFor('user@globex.test') })).toBe('CONNECTION_LIMIT');
    await closeAndSettle(sockets[0]);
    const again = await connect(app.url, { token: await tokenFor('user@globex.test') });
    expect(again.connected).toBe(true);
    expect(app.logs.securityEvents('CONNECTION_LIMIT_EXCEEDED').some((e) => e.reason === 'ip')).toBe(true);
    for (const socket of [...sockets, again]) socket.close();
  });

  it('CONNECT_RATE_PER_IP blunts connection storms with RATE_LIMITED', async () => {
    const app = await start({ CONNECT_RATE_PER_IP: '3' });
    const token = await tokenFor('user@acme.test');
    const sockets = [await connect(app.url, { token }), await connect(app.url, { token }), await connect(app.url, { token })];
    expect(await refusal(app.url, { token })).toBe('RATE_LIMITED');
    expect(app.logs.securityEvents('RATE_LIMIT_EXCEEDED').some((e) => e.reason === 'connect-rate')).toBe(true);
    for (const socket of sockets) socket.close();
  });
});
