import { http, publish, uniqueTitle } from '../support/http';
import { scrape, total } from '../support/metrics';
import { connect, refusal, request, settle } from '../support/sockets';
import { startApp, type RunningApp } from '../support/test-app';
import { demoUser, tokenFor } from '../support/users';

describe('/metrics moves by the expected amounts', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp({ WS_RATE_LIMIT_POINTS: '3', METRICS_TOKEN: 'scrape-token-for-tests-0123456789' });
  });
  afterAll(() => running.close());

  const metrics = (): Promise<Map<string, number>> => scrape(running.url, 'scrape-token-for-tests-0123456789');

  it('is behind METRICS_TOKEN when one is configured', async () => {
    expect((await http(`${running.url}/metrics`, { origin: null })).status).toBe(401);
    expect((await http(`${running.url}/metrics`, { origin: null, token: 'wrong' })).status).toBe(401);
    expect((await metrics()).size).toBeGreaterThan(0);
  });

  it('counts connections, auth failures, rate-limit hits and deliveries', async () => {
    const before = await metrics();
    const user = await demoUser('user@acme.test');
    const socket = await connect(running.url, { token: await tokenFor('user@acme.test') });
    expect(await refusal(running.url, { token: 'garbage' })).toBe('UNAUTHORIZED');
    for (let i = 0; i < 4; i += 1) await request(socket, 'notification:sync', { limit: 1 });
    const admin = await tokenFor('admin@acme.test');
    for (let i = 0; i < 3; i += 1) {
      expect((await publish(running.url, admin, { title: uniqueTitle('metrics'), content: 'c', scope: 'USER', userId: user.id })).status).toBe(201);
    }
    await settle(300);
    const during = await metrics();
    const delta = (name: string, labels: Record<string, string> = {}): number => total(during, name, labels) - total(before, name, labels);

    expect(delta('notify_connections_total', { transport: 'websocket' })).toBe(1);
    expect(delta('notify_connections_active', { transport: 'websocket' })).toBe(1);
    expect(delta('notify_connection_attempts_total', { transport: 'websocket' })).toBe(2);
    expect(delta('notify_connection_failures_total', { transport: 'websocket' })).toBe(1);
    expect(delta('notify_auth_failures_total', { transport: 'websocket', reason: 'MALFORMED_TOKEN' })).toBe(1);
    expect(delta('notify_rate_limit_hits_total', { limit: 'ws-events' })).toBe(1);
    expect(delta('notify_notifications_published_total', { scope: 'USER' })).toBe(3);
    expect(delta('notify_notifications_delivered_total', { transport: 'websocket' })).toBe(3);
    expect(delta('notify_publish_to_emit_seconds_count')).toBe(3);
    // Three sequential publishes: three group commits of one notification each, each timed.
    expect(delta('notify_stream_lock_hold_seconds_count')).toBe(3);
    expect(delta('notify_group_commit_notifications_total')).toBe(3);
    expect(delta('notify_stream_lock_hold_seconds_sum')).toBeGreaterThan(0);
    expect(total(during, 'notify_connections_peak')).toBeGreaterThanOrEqual(1);
    expect(during.has('nodejs_eventloop_lag_seconds')).toBe(true);

    const gone = new Promise((resolve) => socket.once('disconnect', resolve));
    socket.close();
    await gone;
    await settle(100);
    const after = await metrics();
    expect(total(after, 'notify_connections_active', { transport: 'websocket' })).toBe(total(before, 'notify_connections_active', { transport: 'websocket' }));
    expect(total(after, 'notify_connection_duration_seconds_count', { transport: 'websocket' }) - total(before, 'notify_connection_duration_seconds_count', { transport: 'websocket' })).toBe(1);
  });

  it('counts origin rejections', async () => {
    const before = await metrics();
    expect((await http(`${running.url}/notifications`, { origin: 'https://evil.test' })).status).toBe(403);
    const after = await metrics();
    expect(total(after, 'notify_origin_rejections_total', { transport: 'http' }) - total(before, 'notify_origin_rejections_total', { transport: 'http' })).toBe(1);
  });
});
