import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/ports';
import { ensureBuilt, killAll, ServerProcess } from '../support/server-process';

/**
 * The real entry point (`node apps/backend/dist/main.js`) with a clean environment: PATH plus the
 * variables under test, cwd a temp dir so no .env is read and no .data is written in the repo.
 */
const SECRET = 'boot-test-secret-5b1f0e7c9d2a4b6f8e3c1a0d7b9f2e4c'; // 48 bytes
const DB_PASSWORD = 'db-pass-9c1e7a53';
const BASE = {
  NODE_ENV: 'production',
  // Never connected to: every case below is refused while the configuration is validated.
  DATABASE_URL: `postgresql://gateway:${DB_PASSWORD}@127.0.0.1:5432/never_used`,
  JWT_SECRET: SECRET,
  FRONTEND_URL: 'https://app.example.test',
};

let cwd: string;
const lines = (text: string): string[] => text.split('\n').filter((line) => line.trim() !== '');

beforeAll(() => {
  ensureBuilt();
  cwd = mkdtempSync(join(tmpdir(), 'ngw-boot-'));
}, 200_000);

afterAll(() => {
  killAll();
  rmSync(cwd, { recursive: true, force: true });
});

describe('boot refusals: node apps/backend/dist/main.js exits 1 with one line naming the variable and the rule', () => {
  it.each<[string, Record<string, string | undefined>, string, RegExp]>([
    ['production without a JWT key', { JWT_SECRET: undefined }, 'JWT_SECRET', /must be set in production/],
    ['production with an HS256 secret shorter than 32 bytes', { JWT_SECRET: 'short-secret-7d3f9a' }, 'JWT_SECRET', /must be at least 32 bytes in production/],
    ['production with * in ALLOWED_ORIGINS', { ALLOWED_ORIGINS: 'https://admin.example.test,*' }, 'ALLOWED_ORIGINS', /wildcard \(\*\) is refused/],
    ['production with a non-absolute origin', { ALLOWED_ORIGINS: 'admin.example.test' }, 'ALLOWED_ORIGINS', /must hold absolute origins/],
    ['production without DATABASE_URL', { DATABASE_URL: undefined }, 'DATABASE_URL', /must be set in production/],
    ['PORT=-1', { PORT: '-1' }, 'PORT', /must be a whole number from 0 to 65535/],
    ['LOG_LEVEL=loud', { LOG_LEVEL: 'loud' }, 'LOG_LEVEL', /must be one of fatal, error, warn, info, debug, trace, silent/],
  ])(
    '%s',
    async (_case, overrides, variable, rule) => {
      const env = { ...BASE, ...overrides };
      const boot = new ServerProcess(env, { cwd });
      const exit = await boot.waitForExit(20_000);

      expect(exit).toEqual({ code: 1, signal: null });
      const errorLines = lines(boot.stderr);
      expect(errorLines).toHaveLength(1);
      const entry = JSON.parse(errorLines[0]) as Record<string, unknown>;
      expect(entry).toMatchObject({ level: 'fatal', variable });
      expect(entry.msg).toEqual(expect.stringContaining(variable));
      expect(entry.msg).toMatch(rule);
      // Nothing else was said, and nothing was started or written.
      expect(lines(boot.stdout)).toEqual([]);
      expect(readdirSync(cwd)).toEqual([]);
      // Secrets never reach the output, not even the one being refused.
      for (const secret of [env.JWT_SECRET, DB_PASSWORD].filter((s): s is string => !!s)) {
        expect(boot.output).not.toContain(secret);
      }
    },
    30_000,
  );
});

describe('a valid production configuration', () => {
  it('boots, serves GET /health/live 200 and exits 0 within 10 s of SIGTERM', async () => {
    const databaseUrl = process.env.TEST_DATABASE_URL;
    if (!databaseUrl) throw new Error('TEST_DATABASE_URL is set by the jest global setup');
    const port = await freePort();
    const boot = new ServerProcess({ ...BASE, DATABASE_URL: databaseUrl, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info' }, { cwd });

    await boot.waitFor200('/health/live', 30_000);
    const ready = await fetch(`http://127.0.0.1:${port}/health/ready`, { signal: AbortSignal.timeout(5000) });
    expect(ready.status).toBe(200);

    const started = Date.now();
    const exit = await boot.stop(10_000);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(10_000);

    const entries = boot.logEntries();
    expect(entries).toContainEqual(expect.objectContaining({ msg: `notification gateway listening on 127.0.0.1:${port}`, database: 'external', redis: 'none' }));
    expect(entries).toContainEqual(expect.objectContaining({ msg: 'shutdown complete' }));
    expect(entries.filter((entry) => entry.level === 'warn' || entry.level === 'error' || entry.level === 'fatal')).toEqual([]);
    expect(lines(boot.stderr).filter((line) => line.includes('"fatal"'))).toEqual([]);
    expect(boot.output).not.toContain(SECRET);
    expect(readdirSync(cwd)).toEqual([]);
  }, 60_000);
});
