import { ConnectionService } from '../../src/notifications/connection.service';
import { SseHub } from '../../src/notifications/sse/sse-hub';
import { MetricsService } from '../../src/observability/metrics.service';
import { refusal, settle } from '../support/sockets';
import { eventSource, freshUser, mintTicket, openStream, type SseMessage, type StreamClient } from '../support/sse';
import { startApp, type RunningApp } from '../support/test-app';
import { tokenFor } from '../support/users';

const sessionEnd = (message: SseMessage | undefined): unknown => (message?.event === 'notification:session-expiring' ? message.data : message);

/** Polls the server's own count (no fixed sleep). */
async function streamsDropTo(hub: SseHub, count: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (hub.stats().streams !== count) {
    if (Date.now() > deadline) throw new Error(`hub still holds ${hub.stats().streams} streams`);
    await settle(20);
  }
}

const within = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} not within ${ms} ms`)), ms))]);

describe('SSE stream lifecycle', () => {
  let running: RunningApp;
  let hub: SseHub;
  const open: StreamClient[] = [];

  beforeAll(async () => {
    running = await startApp();
    hub = running.app.get(SseHub);
  });
  afterEach(async () => {
    for (const stream of open.splice(0)) stream.close();
    await streamsDropTo(hub, 0);
  });
  afterAll(() => running.close());

  const stream = async (...args: Parameters<typeof openStream>): Promise<StreamClient> => {
    const client = await openStream(...args);
    open.push(client);
    return client;
  };

  it('counts open streams in the metrics and releases them on close', async () => {
    const metrics = running.app.get(MetricsService);
    const client = await stream(running.url, { token: await tokenFor('user@acme.test') });
    expect(client.status).toBe(200);
    expect((await metrics.sseStreams.get()).values[0]?.value).toBe(1);
    expect((await metrics.connectionsActive.get()).values.find((value) => value.labels.transport === 'sse')?.value).toBe(1);
    client.close();
    await streamsDropTo(hub, 0);
    expect((await metrics.sseStreams.get()).values[0]?.value).toBe(0);
    expect((await metrics.connectionsActive.get()).values.find((value) => value.labels.transport === 'sse')?.value).toBe(0);
  });

  it('ends a Bearer stream when its token expires, saying so first', async () => {
    const client = await stream(running.url, { token: await tokenFor('user@acme.test', { expiresIn: 2 }) });
    expect(client.status).toBe(200);
    await within(client.ended, 5000, 'stream end');
    expect(sessionEnd(client.messages.at(-1))).toEqual({ code: 'TOKEN_EXPIRED' });
    expect(running.logs.securityEvents('TOKEN_EXPIRED').some((entry) => entry.transport === 'sse')).toBe(true);
  });

  it('ends a ticket stream at the expiry of the token that asked for the ticket', async () => {
    const ticket = await mintTicket(running.url, await tokenFor('user@acme.test', { expiresIn: 2 }));
    const client = await stream(running.url, { ticket });
    expect(client.status).toBe(200);
    await within(client.ended, 5000, 'stream end');
    expect(sessionEnd(client.messages.at(-1))).toEqual({ code: 'TOKEN_EXPIRED' });
  });

  it('an EventSource whose token expired is refused on reconnect and stops', async () => {
    const source = eventSource(running.url, { token: await tokenFor('user@acme.test', { expiresIn: 2 }) });
    try {
      await source.opened();
      await source.waitForCount((message) => message.event === 'notification:session-expiring', 1, 5000);
      // The EventSource retries after `retry: 3000`; the expired token gets a 401, which closes it for good.
      await within(
        (async () => {
          while (!source.errors.some((error) => error.code === 401)) await source.nextError(8000);
        })(),
        10_000,
        'refused reconnect',
      );
      expect(source.errors.at(-1)).toEqual(expect.objectContaining({ code: 401, readyState: 2 }));
    } finally {
      source.close();
    }
  }, 20_000);

  it("disconnectUser ends every stream of that user (Bearer and ticket), and only theirs", async () => {
    const user = await freshUser('admin@acme.test');
    const token = user.token();
    const viaBearer = await stream(running.url, { token });
    const viaTicket = await stream(running.url, { ticket: await mintTicket(running.url, token) });
    const bystander = await stream(running.url, { token: await tokenFor('admin@acme.test') });

    running.app.get(ConnectionService).disconnectUser(user.id);
    for (const client of [viaBearer, viaTicket]) {
      await within(client.ended, 5000, 'stream end');
      expect(sessionEnd(client.messages.at(-1))).toEqual({ code: 'USER_DISCONNECTED' });
    }
    await settle(300);
    expect(bystander.isEnded()).toBe(false);
    expect(bystander.messages.some((message) => message.event === 'notification:session-expiring')).toBe(false);
    await streamsDropTo(hub, 1);
  });
});

describe('SSE streams count against the connection caps', () => {
  let running: RunningApp;
  let hub: SseHub;

  beforeAll(async () => {
    running = await startApp({ MAX_CONNECTIONS_PER_USER: '1' });
    hub = running.app.get(SseHub);
  });
  afterAll(() => running.close());

  it('refuses a second stream (and a socket) of a user at MAX_CONNECTIONS_PER_USER=1, then admits one after the first closes', async () => {
    const token = await tokenFor('user@acme.test');
    const first = await openStream(running.url, { token });
    expect(first.status).toBe(200);

    const second = await openStream(running.url, { ticket: await mintTicket(running.url, token) });
    expect(second.status).toBe(429);
    expect(second.body).toEqual({ statusCode: 429, code: 'CONNECTION_LIMIT', message: 'Too many connections' });
    expect(running.logs.securityEvents('CONNECTION_LIMIT_EXCEEDED').at(-1)).toEqual(expect.objectContaining({ transport: 'sse', reason: 'user' }));
    expect(await refusal(running.url, { token })).toBe('CONNECTION_LIMIT');
    // Another user is not affected.
    const other = await openStream(running.url, { token: await tokenFor('admin@acme.test') });
    expect(other.status).toBe(200);

    first.close();
    other.close();
    await streamsDropTo(hub, 0);
    const again = await openStream(running.url, { token });
    expect(again.status).toBe(200);
    again.close();
    await streamsDropTo(hub, 0);
  });
});

describe('SSE on shutdown', () => {
  it('tells every stream SERVER_SHUTDOWN and ends it, so the app closes promptly', async () => {
    const running = await startApp();
    const client = await openStream(running.url, { token: await tokenFor('user@acme.test') });
    expect(client.status).toBe(200);
    await within(running.close(), 5000, 'app close');
    await within(client.ended, 5000, 'stream end');
    expect(sessionEnd(client.messages.at(-1))).toEqual({ code: 'SERVER_SHUTDOWN' });
  });
});
