import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { http } from '../support/http';
import { freePort } from '../support/ports';
import { ensureBuilt, killAll, ServerProcess } from '../support/server-process';

/**
 * The embedded default: with DATABASE_URL and REDIS_URL unset, `node apps/backend/dist/main.js`
 * runs on embedded PGlite under DATA_DIR (migrated and seeded), logs in the demo users, and keeps
 * its data across a restart.
 */
const DEMO_PASSWORD = 'ChangeMe123!';
const STARTUP_MS = 60_000;
const STOP_MS = 10_000;

/** PATH only: no DATABASE_URL, no REDIS_URL, no JWT_SECRET. */
async function startEmbedded(cwd: string, dataDir: string): Promise<ServerProcess> {
  const server = new ServerProcess({ NODE_ENV: 'development', HOST: '127.0.0.1', PORT: String(await freePort()), DATA_DIR: dataDir }, { cwd });
  await server.waitFor200('/health/live', STARTUP_MS);
  return server;
}

async function login(server: ServerProcess, email: string): Promise<{ accessToken: string; tokenType: string }> {
  const response = await http<{ accessToken: string; tokenType: string }>(`${server.url}/auth/login`, { body: { email, password: DEMO_PASSWORD }, origin: null });
  expect(response.status).toBe(200);
  return response.body;
}

describe('npm start without DATABASE_URL and REDIS_URL (embedded PGlite under DATA_DIR)', () => {
  let cwd: string;
  let dataDir: string;
  const runs: ServerProcess[] = [];
  const tokens: string[] = [];
  const title = `survives a restart ${randomUUID()}`;
  let notificationId = '';

  beforeAll(() => {
    ensureBuilt();
    cwd = mkdtempSync(join(tmpdir(), 'ngw-embedded-'));
    dataDir = join(cwd, 'data');
  }, 200_000);

  afterAll(async () => {
    killAll();
    // Let a killed PGlite release its files before they are removed.
    await new Promise((resolve) => setTimeout(resolve, 200));
    rmSync(cwd, { recursive: true, force: true });
  });

  it('first start: serves GET /health/live and logs in user@acme.test', async () => {
    const server = await startEmbedded(cwd, dataDir);
    runs.push(server);

    const user = await login(server, 'user@acme.test');
    expect(user.tokenType).toBe('Bearer');
    expect(user.accessToken.split('.')).toHaveLength(3);
    tokens.push(user.accessToken);
    const count = await http(`${server.url}/notifications/unread-count`, { token: user.accessToken, origin: null });
    expect(count.status).toBe(200);
  }, STARTUP_MS + 30_000);

  it('admin@acme.test posts a TENANT notification', async () => {
    const [server] = runs;
    const admin = await login(server, 'admin@acme.test');
    tokens.push(admin.accessToken);
    const created = await http<{ id: string; title: string; scope: string }>(`${server.url}/notifications`, {
      token: admin.accessToken,
      body: { title, content: 'written before the restart', scope: 'TENANT' },
      origin: null,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ title, scope: 'TENANT' });
    notificationId = created.body.id;
  }, 30_000);

  it('SIGTERM stops it with exit code 0', async () => {
    expect(await runs[0].stop(STOP_MS)).toEqual({ code: 0, signal: null });
    expect(existsSync(join(dataDir, 'pglite'))).toBe(true);
    // DATA_DIR was honoured: nothing was written to the working directory besides it.
    expect(readdirSync(cwd)).toEqual(['data']);
  }, STOP_MS + 5_000);

  it('a restart on the same DATA_DIR still lists the notification for admin@acme.test', async () => {
    expect(notificationId).not.toBe('');
    const server = await startEmbedded(cwd, dataDir);
    runs.push(server);

    // A new random secret per process: the token of the first run is no longer accepted.
    const stale = await http(`${server.url}/notifications`, { token: tokens[1], origin: null });
    expect(stale.status).toBe(401);

    const admin = await login(server, 'admin@acme.test');
    tokens.push(admin.accessToken);
    const listed = await http<{ items: { id: string; title: string }[] }>(`${server.url}/notifications?limit=100`, { token: admin.accessToken, origin: null });
    expect(listed.status).toBe(200);
    expect(listed.body.items).toContainEqual(expect.objectContaining({ id: notificationId, title }));

    expect(await server.stop(STOP_MS)).toEqual({ code: 0, signal: null });
  }, STARTUP_MS + STOP_MS + 30_000);

  it('each run warned about the random JWT secret and logged no token and no password', () => {
    expect(runs).toHaveLength(2);
    for (const server of runs) {
      const entries = server.logEntries();
      expect(entries).toContainEqual(
        expect.objectContaining({ level: 'warn', msg: expect.stringMatching(/^JWT_SECRET is not set: using a random secret/) }),
      );
      expect(entries).toContainEqual(expect.objectContaining({ database: 'embedded', redis: 'none' }));
      // Fatal lines go to stderr; a clean run has none.
      expect(server.stderr).not.toContain('"level":"fatal"');
      expect(tokens.length).toBeGreaterThanOrEqual(3);
      for (const secret of [...tokens, ...tokens.map((token) => token.split('.')[2]), DEMO_PASSWORD]) {
        expect(server.output).not.toContain(secret);
      }
    }
  });
});
