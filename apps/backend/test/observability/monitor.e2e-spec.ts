import { connect, refusal, settle, type ClientSocket } from '../support/sockets';
import { startApp, type RunningApp } from '../support/test-app';
import { tokenFor } from '../support/users';

const INTERVAL_MS = 250;

describe('connection monitor: periodic metrics line and alert lines at its alert thresholds', () => {
  let running: RunningApp;
  const sockets: ClientSocket[] = [];

  beforeAll(async () => {
    running = await startApp({ METRICS_INTERVAL_MS: String(INTERVAL_MS), MAX_WEBSOCKET_CONNECTIONS: '5' });
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await running.close();
  });

  const alerts = (name: string): Record<string, unknown>[] => running.logs.entries().filter((entry) => entry.msg === 'ALERT' && entry.alert === name);

  it('logs CONNECTION_METRICS every interval with its figures', async () => {
    await settle(INTERVAL_MS * 2 + 100);
    const lines = running.logs.securityEvents('CONNECTION_METRICS');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines[0]).toMatchObject({ activeConnections: 0, capacity: 5, failureRate: 0 });
    for (const field of ['peakConnections', 'attempts', 'failures', 'authSuccessRate', 'avgConnectionDurationSec', 'rssBytes']) {
      expect(lines[0]).toHaveProperty(field);
    }
  });

  it('no alert while healthy', () => {
    expect(running.logs.securityEvents('HIGH_CONNECTION_USAGE')).toEqual([]);
    expect(running.logs.securityEvents('HIGH_CONNECTION_FAILURE_RATE')).toEqual([]);
    expect(alerts('AUTH_SUCCESS_RATE_LOW')).toEqual([]);
  });

  it('HIGH_CONNECTION_USAGE above 80 % of MAX_WEBSOCKET_CONNECTIONS', async () => {
    for (const email of ['user@acme.test', 'admin@acme.test', 'user@globex.test', 'admin@globex.test'] as const) {
      sockets.push(await connect(running.url, { token: await tokenFor(email) }));
    }
    await settle(INTERVAL_MS * 2);
    expect(running.logs.securityEvents('HIGH_CONNECTION_USAGE').at(-1)).toMatchObject({ activeConnections: 4, capacity: 5, usage: 0.8 });
  });

  it('HIGH_CONNECTION_FAILURE_RATE above 5 % and the authentication success rollback trigger below 95 %', async () => {
    await settle(INTERVAL_MS);
    for (let i = 0; i < 3; i += 1) expect(await refusal(running.url, { token: 'forged' })).toBe('UNAUTHORIZED');
    sockets.push(await connect(running.url, { token: await tokenFor('root@platform.test') }));
    await settle(INTERVAL_MS * 2);
    const failure = running.logs.securityEvents('HIGH_CONNECTION_FAILURE_RATE').at(-1);
    expect(failure?.failureRate).toBeGreaterThan(0.05);
    const auth = alerts('AUTH_SUCCESS_RATE_LOW').at(-1);
    expect(auth?.authSuccessRate).toBeLessThan(0.95);
  });

  it('the memory rollback trigger: RSS 50 % above its level after start-up', async () => {
    const baseline = process.memoryUsage().rss;
    // The app shares this process: grow its RSS past 1.5x and let one interval see it.
    const ballast = Buffer.alloc(Math.ceil(baseline * 0.8), 1);
    await settle(INTERVAL_MS * 2);
    expect(ballast.length).toBeGreaterThan(0);
    expect(alerts('MEMORY_GROWTH').length).toBeGreaterThan(0);
  });

  it('timers stop on shutdown', async () => {
    await running.close();
    const count = running.logs.securityEvents('CONNECTION_METRICS').length;
    await settle(INTERVAL_MS * 3);
    expect(running.logs.securityEvents('CONNECTION_METRICS').length).toBe(count);
  });
});
