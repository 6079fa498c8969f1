import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { freePort } from './redis-server';
import { ALLOWED_ORIGIN, TEST_JWT_SECRET } from './test-app';

const MAIN = join(resolve(__dirname, '../../../..'), 'apps/backend/dist/main.js');

/** The built server as a real process (`npm test` builds first), for crash and shutdown tests. */
export class ServerProcess {
  readonly child: ChildProcess;
  output = '';
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly port: number,
    env: Record<string, string>,
  ) {
    this.child = spawn(process.execPath, [MAIN], {
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'production',
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: process.env.TEST_DATABASE_URL ?? '',
        JWT_SECRET: TEST_JWT_SECRET,
        FRONTEND_URL: ALLOWED_ORIGIN,
        LOG_LEVEL: 'warn',
        MAX_CONNECTIONS_PER_USER: '100',
        WS_RATE_LIMIT_POINTS: '10000',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [this.child.stdout, this.child.stderr]) stream?.setEncoding('utf8').on('data', (chunk: string) => (this.output += chunk));
    this.exited = new Promise((done) => this.child.once('exit', (code, signal) => done({ code, signal })));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(env: Record<string, string> = {}, port?: number): Promise<ServerProcess> {
    const server = new ServerProcess(port ?? (await freePort()), env);
    await server.waitUntilReady();
    return server;
  }

  private async waitUntilReady(timeoutMs = 20_000): Promise<void> {
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      if (this.child.exitCode !== null) throw new Error(`server exited: ${this.output}`);
      const ready = await fetch(`${this.url}/health/ready`).then(
        (response) => response.status === 200,
        () => false,
      );
      if (ready) return;
    }
    this.child.kill('SIGKILL');
    throw new Error(`server not ready after ${timeoutMs} ms: ${this.output}`);
  }

  /** Resolves with the exit, or kills the process and rejects after timeoutMs. */
  async waitForExit(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        reject(new Error(`still running after ${timeoutMs} ms`));
      }, timeoutMs);
    });
    return Promise.race([this.exited, timeout]).finally(() => clearTimeout(timer));
  }

  crash(): void {
    this.child.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    await this.waitForExit(15_000).catch(() => undefined);
  }
}
