import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { NotificationService } from '../../src/notifications/notification.service';
import { SseHub } from '../../src/notifications/sse/sse-hub';
import { settle } from '../support/sockets';
import { freshUser, openStream } from '../support/sse';
import { ALLOWED_ORIGIN, startApp, type RunningApp } from '../support/test-app';

const BOUND = 16_384;

/** A client that sends the request, reads the status line and headers, and then never reads again. */
function stalledStream(url: string, token: string): Promise<{ request: ClientRequest; response: IncomingMessage }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${url}/notifications/stream`, { headers: { authorization: `Bearer ${token}`, origin: ALLOWED_ORIGIN, accept: 'text/event-stream' } }, (response) => {
      response.pause();
      resolve({ request, response });
    });
    request.on('error', reject);
    request.end();
  });
}

describe('SSE backpressure', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp({ SSE_MAX_BUFFERED_BYTES: String(BOUND), MAX_CONNECTIONS_PER_USER: '1' });
  });
  afterAll(() => running.close());

  it('cuts off a client that stops reading; the server never holds more than the bound for it', async () => {
    const hub = running.app.get(SseHub);
    const notifications = running.app.get(NotificationService);
    const user = await freshUser('admin@acme.test');
    const token = user.token();

    const { request, response } = await stalledStream(running.url, token);
    expect(response.statusCode).toBe(200);
    expect(hub.stats().streams).toBe(1);

    // Large notifications until the server gives up on the stream: the loop ends on the server's
    // own state, never on a clock. The kernel's socket buffers absorb the first megabytes.
    const big = { title: 'bulk', content: 'y'.repeat(1000), data: { blob: 'x'.repeat(3900) } };
    let publishedBytes = 0;
    let batches = 0;
    while (hub.stats().streams > 0 && batches < 500) {
      const sent = await Promise.all(Array.from({ length: 10 }, () => notifications.sendToUser(user.id, big)));
      publishedBytes += sent.reduce((sum, view) => sum + JSON.stringify(view).length, 0);
      batches += 1;
    }

    expect(hub.stats().streams).toBe(0);
    const stats = hub.stats();
    // The stream really queued on the server before the cut, yet never past the bound.
    expect(stats.peakBufferedBytes).toBeGreaterThan(BOUND / 2);
    expect(stats.peakBufferedBytes).toBeLessThanOrEqual(BOUND);
    expect(stats.bufferedBytes).toBe(0);
    expect(publishedBytes).toBeGreaterThan(10 * BOUND);

    const violations = running.logs.securityEvents('SECURITY_VIOLATION');
    expect(violations).toEqual([expect.objectContaining({ reason: 'slow consumer', transport: 'sse', userId: user.id, limitBytes: BOUND })]);
    request.destroy();

    // The cut stream gave its connection slot back (MAX_CONNECTIONS_PER_USER=1 here).
    const next = await openStream(running.url, { token });
    expect(next.status).toBe(200);
    next.close();
    await settle(50);
  }, 60_000);
});
