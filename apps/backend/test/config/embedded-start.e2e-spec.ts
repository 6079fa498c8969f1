import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Issue 2's "Done when": with DATABASE_URL and REDIS_URL unset, `node apps/backend/dist/main.js`
 * runs on embedded PGlite under DATA_DIR (migrated and seeded), logs in the demo users, and keeps
 * its data across a restart.
 */
const REPO = resolve(__dirname, '../../../..');
const MAIN = join(REPO, 'apps/backend/dist/main.js');
const DEMO_PASSWORD = 'ChangeMe123!';
const STARTUP_MS = 60_000;
const STOP_MS = 10_000;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface Login {
  accessToken: string;
  tokenType: string;
  expiresIn: number;
}

const children = new Set<ChildProcess>();

class Server {
  readonly child: ChildProcess;
  readonly url: string;
  stdout = '';
  stderr = '';
  private readonly exit: Promise<Exit>;

  constructor(cwd: string, port: number, dataDir: string) {
    // PATH only: no DATABASE_URL, no REDIS_URL, no JWT_SECRET.
    const env = { PATH: process.env.PATH ?? '', NODE_ENV: 'development', HOST: '127.0.0.1', PORT: String(port), DATA_DIR: dataDir };
    this.url = `http://127.0.0.1:${port}`;
    this.child = spawn(process.execPath, [MAIN], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(this.child);
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exit = new Promise((done) => this.child.once('close', (code, signal) => done({ code, signal })));
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** Polls GET /health/live until 200; bounded, and fails early when the process has exited. */
  async ready(timeoutMs = STARTUP_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.exited) throw new Error(`exited during startup; stderr: ${this.stderr}`);
      try {
        const response = await fetch(`${this.url}/health/live`, { signal: AbortSignal.timeout(1000) });
        if (response.status === 200) return;
      } catch {
        // not listening yet
      }
      await sleep(250);
    }
    throw new Error(`GET /health/live did not answer 200 within ${timeoutMs} ms`);
  }

  /** SIGTERM, then the exit; SIGKILL and a rejection past timeoutMs. */
  stop(timeoutMs = STOP_MS): Promise<Exit> {
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        reject(new Error(`no exit within ${timeoutMs} ms of SIGTERM`));
      }, timeoutMs);
    });
    return Promise.race([this.exit, timeout]).finally(() => clearTimeout(timer));
  }

  async call<T>(path: string, init: { token?: string; body?: unknown } = {}): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = {};
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${this.url}${path}`, {
      method: init.body === undefined ? 'GET' : 'POST',
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  async login(email: string): Promise<Login> {
    const response = await this.call<Login>('/auth/login', { body: { email, password: DEMO_PASSWORD } });
    expect(response.status).toBe(200);
    return response.body;
  }

  get output(): string {
    return this.stdout + this.stderr;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

function logEntries(server: Server): Record<string, unknown>[] {
  return server.stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('npm start without DATABASE_URL and REDIS_URL (embedded PGlite under DATA_DIR)', () => {
  let cwd: string;
  let dataDir: string;
  const runs: Server[] = [];
  const tokens: string[] = [];
  const title = `survives a restart ${randomUUID()}`;
  let notificationId = '';

  beforeAll(() => {
    if (!existsSync(MAIN)) {
      execFileSync('npx', ['tsc', '-b', 'apps/backend/tsconfig.app.json'], { cwd: REPO, stdio: 'inherit', timeout: 180_000 });
    }
    cwd = mkdtempSync(join(tmpdir(), 'ngw-embedded-'));
    dataDir = join(cwd, 'data');
  }, 200_000);

  afterAll(async () => {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    // Let a killed PGlite release its files before they are removed.
    await sleep(200);
    rmSync(cwd, { recursive: true, force: true });
  });

  it('first start: serves GET /health/live and logs in user@acme.test', async () => {
    const server = new Server(cwd, await freePort(), dataDir);
    runs.push(server);
    await server.ready();

    const login = await server.login('user@acme.test');
    expect(login.tokenType).toBe('Bearer');
    expect(login.accessToken.split('.')).toHaveLength(3);
    tokens.push(login.accessToken);
    const count = await server.call<{ count: number }>('/notifications/unread-count', { token: login.accessToken });
    expect(count.status).toBe(200);
  }, STARTUP_MS + 30_000);

  it('admin@acme.test posts a TENANT notification', async () => {
    const [server] = runs;
    const admin = await server.login('admin@acme.test');
    tokens.push(admin.accessToken);
    const created = await server.call<{ id: string; title: string; scope: string }>('/notifications', {
      token: admin.accessToken,
      body: { title, content: 'written before the restart', scope: 'TENANT' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ title, scope: 'TENANT' });
    notificationId = created.body.id;
  }, 30_000);

  it('SIGTERM stops it with exit code 0', async () => {
    expect(await runs[0].stop()).toEqual({ code: 0, signal: null });
    expect(existsSync(join(dataDir, 'pglite'))).toBe(true);
    // DATA_DIR was honoured: nothing was written to the working directory besides it.
    expect(readdirSync(cwd)).toEqual(['data']);
  }, STOP_MS + 5_000);

  it('a restart on the same DATA_DIR still lists the notification for admin@acme.test', async () => {
    expect(notificationId).not.toBe('');
    const server = new Server(cwd, await freePort(), dataDir);
    runs.push(server);
    await server.ready();

    // A new random secret per process: the token of the first run is no longer accepted.
    const stale = await server.call('/notifications', { token: tokens[1] });
    expect(stale.status).toBe(401);

    const admin = await server.login('admin@acme.test');
    tokens.push(admin.accessToken);
    const listed = await server.call<{ items: { id: string; title: string }[] }>('/notifications?limit=100', { token: admin.accessToken });
    expect(listed.status).toBe(200);
    expect(listed.body.items).toContainEqual(expect.objectContaining({ id: notificationId, title }));

    expect(await server.stop()).toEqual({ code: 0, signal: null });
  }, STARTUP_MS + STOP_MS + 30_000);

  it('each run warned about the random JWT secret and logged no token and no password', () => {
    expect(runs).toHaveLength(2);
    for (const server of runs) {
      const entries = logEntries(server);
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
