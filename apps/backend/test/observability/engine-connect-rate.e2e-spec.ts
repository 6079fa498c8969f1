import { NS, openRawEngine, type RawEngine } from '../adversarial/raw';
import { connect, refusal } from '../support/sockets';
import { startApp, type RunningApp } from '../support/test-app';
import { tokenFor } from '../support/users';

/**
 * A finding of docs/SECURITY.md: CONNECT_RATE_PER_IP is spent by engine.io handshakes (700 raw
 * handshakes in 1.3 s were all accepted, only namespace CONNECTs counted), and no longer by each
 * namespace CONNECT (one socket repeating CONNECT used up its IP's budget for everyone behind it).
 */
describe('CONNECT_RATE_PER_IP counts engine.io handshakes, once each', () => {
  let app: RunningApp;
  const raws: RawEngine[] = [];
  beforeAll(async () => {
    app = await startApp({ CONNECT_RATE_PER_IP: '3' });
  });
  afterAll(async () => {
    for (const raw of raws) raw.destroy();
    await app.close();
  });

  it('a CONNECT storm on one connection spends one point; handshakes that never join spend theirs; then RATE_LIMITED, and the refused connection is closed', async () => {
    const token = await tokenFor('user@acme.test');
    const storm = await openRawEngine(app.url);
    raws.push(storm);
    for (let i = 0; i < 200; i += 1) storm.send(`40${NS},{"token":"not-a-token"}`);
    await storm.closed;

    const legitimate = await connect(app.url, { token });
    expect(legitimate.connected).toBe(true);
    legitimate.close();

    raws.push(await openRawEngine(app.url));
    const overRate = await openRawEngine(app.url);
    raws.push(overRate);
    expect(await overRate.join({ token })).toBe(`44${NS},{"message":"RATE_LIMITED"}`);
    await overRate.closed;
    expect(await refusal(app.url, { token })).toBe('RATE_LIMITED');
    expect(app.logs.securityEvents('RATE_LIMIT_EXCEEDED').some((e) => e.reason === 'connect-rate')).toBe(true);
  });
});
