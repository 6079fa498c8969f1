import { SecurityEventLogger } from '../../src/security/security-event.logger';
import { call } from '../adversarial/http';
import { scrape, total } from '../support/metrics';
import { startApp, type RunningApp } from '../support/test-app';

/**
 * A finding of docs/SECURITY.md: a flood of refusals wrote one WARN line per packet (about 550k lines,
 * 150 MB in 15 s). Security lines are sampled per (event, peer, user) now; every event is still
 * counted, the dropped lines too, and a summary line says what was dropped and from where.
 */
describe('security log sampling', () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp({ SECURITY_LOG_BURST: '5', SECURITY_LOG_RATE_PER_SEC: '1' });
  });
  afterAll(() => app.close());

  it('writes a burst per peer, counts the rest as dropped, summarises them, and still logs another peer', async () => {
    const handshake = '/socket.io/?EIO=4&transport=polling';
    const mark = app.logs.lines.length;
    const before = await scrape(app.url);
    for (let i = 0; i < 30; i += 1) expect((await call(app.url, handshake, { origin: 'https://evil.test' })).status).toBe(403);
    expect((await call(app.url, handshake, { origin: 'https://evil.test', localAddress: '127.0.0.2' })).status).toBe(403);

    const entries = app.logs.lines.slice(mark).map((line) => JSON.parse(line) as Record<string, unknown>);
    const rejected = entries.filter((entry) => entry.msg === 'SECURITY' && entry.event === 'ORIGIN_REJECTED');
    const fromFlooder = rejected.filter((entry) => entry.ip === '127.0.0.1').length;
    // The burst, plus what one line a second regained while the requests ran.
    expect(fromFlooder).toBeGreaterThanOrEqual(5);
    expect(fromFlooder).toBeLessThan(15);
    expect(rejected.filter((entry) => entry.ip === '127.0.0.2')).toHaveLength(1);

    const after = await scrape(app.url);
    const counted = total(after, 'notify_security_events_total', { event: 'ORIGIN_REJECTED' }) - total(before, 'notify_security_events_total', { event: 'ORIGIN_REJECTED' });
    const dropped = total(after, 'notify_security_log_dropped_total', { event: 'ORIGIN_REJECTED' }) - total(before, 'notify_security_log_dropped_total', { event: 'ORIGIN_REJECTED' });
    expect(counted).toBe(31);
    expect(dropped).toBe(30 - fromFlooder);

    const summaryMark = app.logs.lines.length;
    app.app.get(SecurityEventLogger).summarize();
    const summary = app.logs.lines
      .slice(summaryMark)
      .map((line) => JSON.parse(line) as { msg?: string; dropped?: number; top?: { key: string; dropped: number }[] })
      .find((entry) => entry.msg === 'SECURITY_SUMMARY');
    expect(summary?.dropped).toBe(dropped);
    expect(summary?.top?.[0]).toEqual({ key: 'ORIGIN_REJECTED|127.0.0.1||engine handshake', dropped });
    // Nothing more to say until something else is dropped.
    const quietMark = app.logs.lines.length;
    app.app.get(SecurityEventLogger).summarize();
    expect(app.logs.lines.slice(quietMark).some((line) => line.includes('SECURITY_SUMMARY'))).toBe(false);
  });
});
