import { execFileSync, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { freePort, isFree } from '../support/ports';
import { ensureBuilt } from '../support/server-process';
import { TEST_JWT_SECRET } from '../support/test-app';

const REPO = resolve(__dirname, '../../../..');

/** Every process below `pid`, read from ps: whatever a failed run would leave behind. */
function descendants(pid: number): number[] {
  let children: number[] = [];
  try {
    children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .map((line) => Number(line.trim()))
      .filter((child) => child > 0);
  } catch {
    return [];
  }
  return children.flatMap((child) => [child, ...descendants(child)]);
}

/** `npm start` as a supervisor runs it: a signal to npm must stop the server, not orphan it. */
describe('npm start passes SIGTERM and SIGINT to the server', () => {
  const leftovers = new Set<number>();
  beforeAll(() => ensureBuilt(), 180_000);
  afterAll(() => {
    for (const pid of leftovers) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('%s to npm shuts the server down and frees its port', async (signal) => {
    const port = await freePort();
    let output = '';
    const npm = spawn('npm', ['start', '--silent'], {
      cwd: REPO,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        NODE_ENV: 'test',
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: process.env.TEST_DATABASE_URL,
        JWT_SECRET: TEST_JWT_SECRET,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    npm.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    npm.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const exited = new Promise<void>((done) => npm.once('close', () => done()));
    for (const deadline = Date.now() + 120_000; ; await new Promise((done) => setTimeout(done, 250))) {
      if (npm.exitCode !== null) throw new Error(`npm start exited: ${output}`);
      if (Date.now() > deadline) throw new Error(`no answer on ${port}: ${output}`);
      if (await fetch(`http://127.0.0.1:${port}/health/live`).then((r) => r.ok, () => false)) break;
    }
    for (const pid of descendants(npm.pid ?? 0)) leftovers.add(pid);

    npm.kill(signal);
    // Bounded: npm that never exits fails here rather than at the test timeout.
    const stopped = await Promise.race([exited.then(() => true), new Promise<boolean>((done) => setTimeout(() => done(false), 20_000))]);
    expect(stopped).toBe(true);
    expect(await isFree(port)).toBe(true);
    expect(output).toContain('"msg":"shutdown complete"');
  }, 180_000);
});
