import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort } from './ports';
import { ALLOWED_ORIGIN, TEST_JWT_SECRET } from './test-app';

const REPO = resolve(__dirname, '../../../..');
const MAIN = join(REPO, 'apps/backend/dist/main.js');

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** `npm test` builds first; a single spec run on a fresh clone may not have. */
export function ensureBuilt(): void {
  if (!existsSync(MAIN)) execFileSync('npx', ['tsc', '-b', 'apps/backend/tsconfig.app.json'], { cwd: REPO, stdio: 'inherit', timeout: 180_000 });
}

const running = new Set<ChildProcess>();
/** Kills whatever a test file left running (call from afterAll). */
export function killAll(): void {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** The built server (`node apps/backend/dist/main.js`) as a real process. */
export class ServerProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  private readonly exited: Promise<Exit>;

  /** Exactly `env` (plus PATH): nothing of the test's own environment leaks in. */
  constructor(
    env: Record<string, string | undefined>,
    options: { cwd?: string; port?: number } = {},
    readonly port = Number(env.PORT ?? options.port ?? 0),
  ) {
    const clean: Record<string, string> = { PATH: process.env.PATH ?? '' };
    for (const [name, value] of Object.entries(env)) if (value !== undefined) clean[name] = value;
    this.child = spawn(process.execPath, [MAIN], { cwd: options.cwd ?? REPO, env: clean, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(this.child);
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((done) => this.child.once('close', (code, signal) => done({ code, signal })));
  }

  /** A production-mode server on the run's database, ready to serve. */
  static async start(env: Record<string, string> = {}, port?: number): Promise<ServerProcess> {
    ensureBuilt();
    const chosen = port ?? (await freePort());
    const server = new ServerProcess({
      NODE_ENV: 'production',
      PORT: String(chosen),
      HOST: '127.0.0.1',
      DATABASE_URL: process.env.TEST_DATABASE_URL,
      JWT_SECRET: TEST_JWT_SECRET,
      FRONTEND_URL: ALLOWED_ORIGIN,
      LOG_LEVEL: 'warn',
      MAX_CONNECTIONS_PER_USER: '100',
      WS_RATE_LIMIT_POINTS: '10000',
      HTTP_RATE_LIMIT_CREATE: '100000',
      HTTP_RATE_LIMIT_READ: '100000',
      HTTP_RATE_LIMIT_STREAM_TICKET: '100000',
      HTTP_RATE_LIMIT_STREAM_CONNECT: '100000',
      HTTP_RATE_LIMIT_STREAM_REPLAY: '100000',
      ...env,
    });
    await server.waitFor200('/health/ready', 20_000);
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get output(): string {
    return this.stdout + this.stderr;
  }

  get hasExited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** Polls `path` until it answers 200; bounded, and fails early when the process exits. */
  async waitFor200(path: string, timeoutMs: number): Promise<void> {
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((r) => setTimeout(r, 150))) {
      if (this.hasExited) throw new Error(`server exited before ${path} answered: ${this.output}`);
      const ok = await fetch(`${this.url}${path}`, { signal: AbortSignal.timeout(1000) }).then(
        (response) => response.status === 200,
        () => false,
      );
      if (ok) return;
    }
    this.child.kill('SIGKILL');
    throw new Error(`${path} did not answer 200 within ${timeoutMs} ms: ${this.output}`);
  }

  /** Resolves with the exit, or kills the process and rejects after timeoutMs. */
  async waitForExit(timeoutMs: number): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        reject(new Error(`still running after ${timeoutMs} ms: ${this.output}`));
      }, timeoutMs);
    });
    return Promise.race([this.exited, timeout]).finally(() => clearTimeout(timer));
  }

  crash(): void {
    this.child.kill('SIGKILL');
  }

  /** SIGTERM, then the exit (SIGKILL and a rejection past timeoutMs). */
  async stop(timeoutMs = 15_000): Promise<Exit> {
    if (this.hasExited) return this.exited;
    this.child.kill('SIGTERM');
    return this.waitForExit(timeoutMs);
  }

  /** JSON log lines of stdout, parsed (in development, LOG_FORMAT=pretty lines are for people and skipped). */
  logEntries(): Record<string, unknown>[] {
    return this.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }
}
