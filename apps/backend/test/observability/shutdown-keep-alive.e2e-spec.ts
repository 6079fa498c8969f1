import { Agent, request, type IncomingMessage } from 'node:http';
import { settle } from '../support/sockets';
import { startApp, type RunningApp } from '../support/test-app';

/**
 * A request in flight when the drain starts is answered `Connection: close`, and its connection
 * closes after it: the client opens a fresh one for its next request rather than sending it on a
 * connection the drain is about to close (seen by a publisher as a socket closed mid-request).
 */
describe('shutdown: responses during the drain end their keep-alive connection', () => {
  let running: RunningApp | undefined;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });

  afterAll(async () => {
    agent.destroy();
    await running?.close();
  });

  /** POST /auth/login on the shared keep-alive agent; `hold` keeps the body's end back until it resolves. */
  function login(base: string, hold?: Promise<void>): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const body = JSON.stringify({ email: 'nobody@acme.test', password: 'not-the-password' });
      const req = request(`${base}/auth/login`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (response) => {
        response.resume();
        response.on('end', () => resolve(response));
      });
      req.on('error', reject);
      if (!hold) return void req.end(body);
      req.write(body.slice(0, 10));
      void hold.then(() => req.end(body.slice(10)));
    });
  }

  it('keeps the connection before the drain; says close to the request in flight when it starts', async () => {
    running = await startApp();
    const app = running;
    const before = await login(app.url);
    expect(before.headers.connection).toBe('keep-alive');

    let release = (): void => undefined;
    const held = login(app.url, new Promise<void>((resolve) => (release = resolve)));
    // The request's head is in: the server is reading its body.
    await settle(200);
    const closing = app.close();
    // server.close() follows the drain's start (beforeApplicationShutdown): once not listening, the drain is on.
    const deadline = Date.now() + 10_000;
    while (app.app.getHttpServer().listening && Date.now() < deadline) await settle(10);
    release();
    const during = await held;
    await closing;
    expect(during.headers.connection).toBe('close');
  }, 30_000);
});
