import { http } from '../support/http';
import { killAll, ServerProcess } from '../support/server-process';

/** Waits (bounded) until the server has written a line that matches. */
async function lineMatching(server: ServerProcess, match: (line: string) => boolean): Promise<string> {
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((done) => setTimeout(done, 100))) {
    const line = server.stdout.split('\n').find(match);
    if (line) return line;
  }
  throw new Error(`no such line in: ${server.stdout}`);
}

const failedLogin = (server: ServerProcess) => http(`${server.url}/auth/login`, { body: { email: 'nobody@acme.test', password: 'wrong-password-1' }, origin: null });

describe('log format: readable in development, JSON in production', () => {
  afterAll(() => killAll());

  it('development writes one readable line per entry, secrets still redacted', async () => {
    const server = await ServerProcess.start({ NODE_ENV: 'development', LOG_LEVEL: 'info' });
    try {
      expect((await failedLogin(server)).status).toBe(401);
      const line = await lineMatching(server, (l) => l.includes('AUTHENTICATION_FAILED'));
      expect(line.startsWith('{')).toBe(false);
      expect(line).toMatch(/WARN.*SECURITY/);
      expect(server.stdout).not.toContain('wrong-password-1');
    } finally {
      await server.stop();
    }
  }, 60_000);

  it('production (and LOG_FORMAT=json in development) writes JSON objects', async () => {
    for (const env of [{}, { NODE_ENV: 'development', LOG_FORMAT: 'json' }] as Record<string, string>[]) {
      const server = await ServerProcess.start({ LOG_LEVEL: 'info', ...env });
      try {
        expect((await failedLogin(server)).status).toBe(401);
        const line = await lineMatching(server, (l) => l.includes('AUTHENTICATION_FAILED'));
        expect(JSON.parse(line)).toMatchObject({ level: 'warn', msg: 'SECURITY', event: 'AUTHENTICATION_FAILED' });
      } finally {
        await server.stop();
      }
    }
  }, 60_000);

  it('GET /health answers like /health/live', async () => {
    const server = await ServerProcess.start();
    try {
      const [root, live] = await Promise.all([http(`${server.url}/health`, { origin: null }), http(`${server.url}/health/live`, { origin: null })]);
      expect(root.status).toBe(200);
      expect(root.body).toEqual(live.body);
      expect((await http(`${server.url}/health/nothing`, { origin: null })).status).toBe(404);
    } finally {
      await server.stop();
    }
  }, 60_000);
});
