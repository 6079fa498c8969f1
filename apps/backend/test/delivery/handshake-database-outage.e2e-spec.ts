import { createNotificationClient, type NotificationClient, type NotificationClientError, type StateChange } from '@notify-gateway/client';
import type { NotificationPage } from '@notify-gateway/contracts';
import { http } from '../support/http';
import { refusal, settle } from '../support/sockets';
import { TcpProxy } from '../support/tcp-proxy';
import { startApp, type RunningApp } from '../support/test-app';
import { tokenFor } from '../support/users';

/**
 * A finding of docs/SECURITY.md: a handshake whose token cannot be checked because PostgreSQL is down was
 * refused UNAUTHORIZED, and packages/client gave up for good. It is SERVICE_UNAVAILABLE now, and
 * the client retries it with backoff until the database is back.
 */
describe('socket handshakes while PostgreSQL is unreachable (through a proxy the test cuts)', () => {
  let proxy: TcpProxy;
  let running: RunningApp;
  let client: NotificationClient | undefined;

  beforeAll(async () => {
    const target = new URL(process.env.TEST_DATABASE_URL ?? '');
    proxy = await TcpProxy.start(target.hostname, Number(target.port || 5432));
    // No user-state cache: a cached user is verified without the database, which is not this case.
    running = await startApp({ DATABASE_URL: proxy.reroute(process.env.TEST_DATABASE_URL ?? ''), USER_STATE_CACHE_TTL_MS: '0' });
  });
  afterAll(async () => {
    client?.close();
    await running?.close();
    await proxy?.cut();
  });

  it('answers SERVICE_UNAVAILABLE (a bad token still UNAUTHORIZED); the client keeps retrying and is live once the database returns', async () => {
    const token = await tokenFor('user@acme.test');
    const cursor = (await http<NotificationPage>(`${running.url}/notifications?limit=1`, { token })).body.cursor ?? undefined;

    await proxy.cut();
    expect(await refusal(running.url, { token })).toBe('SERVICE_UNAVAILABLE');
    expect(await refusal(running.url, { token: 'not-a-token' })).toBe('UNAUTHORIZED');

    const states: StateChange[] = [];
    const errors: NotificationClientError[] = [];
    client = createNotificationClient({
      url: running.url,
      cursor,
      reconnectDelayMs: 100,
      reconnectDelayMaxMs: 400,
      getToken: () => Promise.resolve(token),
    });
    client.on('state', (change) => states.push(change));
    client.on('error', (error) => errors.push(error));
    // More refusals than the client's UNAUTHORIZED allowance (3): it must not stop on these.
    for (let i = 0; i < 200 && errors.length < 5; i += 1) await settle(50);
    expect(errors.length).toBeGreaterThanOrEqual(5);
    expect(new Set(errors.map((error) => error.code))).toEqual(new Set(['SERVICE_UNAVAILABLE']));
    expect(client.state).not.toBe('stopped');

    await proxy.restore();
    for (let i = 0; i < 200 && client.state !== 'live'; i += 1) await settle(50);
    expect(client.state).toBe('live');
    expect(states.some((change) => change.state === 'stopped')).toBe(false);
  }, 60_000);
});
