import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { sign } from 'jsonwebtoken';
import { Client } from 'pg';
import { hostLockfile } from '../support/host-lockfile';
import { http } from '../support/http';
import { freePort } from '../support/ports';
import { connect, nextEvent, refusal, waitForDisconnect } from '../support/sockets';
import { eventSource, mintTicket } from '../support/sse';
import { ALLOWED_ORIGIN, TEST_JWT_SECRET } from '../support/test-app';
import { databaseUrl, withAdminClient } from '../support/test-database';

const run = promisify(execFile);
const REPO = resolve(__dirname, '../../../..');
const HOST_TEMPLATE = join(__dirname, 'host');
const PACKAGES = ['packages/contracts', 'packages/client', 'apps/backend'];
const HOST_API_KEY = 'host-key-0123456789';
const FOREIGN_ORIGIN = 'https://evil.example.test';
/** What the host installs besides the tarballs, at the versions this repository installed (in npm's cache). */
const HOST_DEPENDENCIES = ['@nestjs/common', '@nestjs/core', '@nestjs/platform-express', '@nestjs/websockets', '@nestjs/platform-socket.io', '@nestjs/config', 'reflect-metadata', 'rxjs', 'pg'];
const HOST_DEV_DEPENDENCIES = ['@types/node', '@types/pg'];

interface Packed {
  name: string;
  version: string;
  filename: string;
  files: { path: string }[];
}

interface HostUser {
  id: string;
  orgId: string;
  token: string;
}

/** The version the backend workspace runs on (its own node_modules first, as Node resolves). */
function installedVersion(name: string): string {
  const file = [join(REPO, 'apps/backend/node_modules', name, 'package.json'), join(REPO, 'node_modules', name, 'package.json')].find((path) => existsSync(path));
  if (!file) throw new Error(`${name} is not installed in the workspace`);
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

function tokenFor(userId: string): string {
  return sign({ sub: userId }, TEST_JWT_SECRET, { algorithm: 'HS256', expiresIn: 900 });
}

/**
 * The acceptance path: the packages as npm would publish them, installed from their
 * tarballs (no workspace link) into a NestJS app of its own, with its own ConfigModule, guard and
 * users table, migrated with the shipped migrations, talked to with real clients.
 */
describe('a host NestJS app installs the packed packages and embeds the gateway', () => {
  let work: string;
  let hostDir: string;
  let packed: Packed[];
  let database: string;
  let dbUrl: string;
  let host: ChildProcess | undefined;
  let hostOutput = '';
  let url: string;
  let migrateOutput: string;
  let tarball: (name: string) => string;
  type HostUserKey = 'active' | 'admin' | 'inactive' | 'newcomer';
  const users = {} as Record<HostUserKey, HostUser>;

  beforeAll(async () => {
    if (!PACKAGES.every((dir) => existsSync(join(REPO, dir, 'dist', 'index.js')))) {
      await run('npm', ['run', 'build', '--silent'], { cwd: REPO, timeout: 300_000 });
    }
    work = mkdtempSync(join(tmpdir(), 'ngw-host-'));
    const packs = join(work, 'packs');
    mkdirSync(packs);
    const packArgs = ['pack', '--json', '--silent', '--pack-destination', packs, ...PACKAGES.flatMap((dir) => ['--workspace', dir])];
    const { stdout } = await run('npm', packArgs, { cwd: REPO, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
    packed = JSON.parse(stdout) as Packed[];
    tarball = (name: string): string => `file:../packs/${packed.find((p) => p.name === name)?.filename ?? 'missing'}`;

    hostDir = join(work, 'host');
    cpSync(HOST_TEMPLATE, hostDir, { recursive: true });
    const pin = (names: string[]): Record<string, string> => Object.fromEntries(names.map((name) => [name, installedVersion(name)]));
    const tarballs = {
      '@notify-gateway/backend': { spec: tarball('@notify-gateway/backend'), workspace: 'apps/backend' },
      '@notify-gateway/contracts': { spec: tarball('@notify-gateway/contracts'), workspace: 'packages/contracts' },
    };
    const dependencies = pin(HOST_DEPENDENCIES);
    const devDependencies = pin(HOST_DEV_DEPENDENCIES);
    writeFileSync(
      join(hostDir, 'package.json'),
      JSON.stringify({
        name: 'host-app',
        private: true,
        dependencies: { ...dependencies, ...Object.fromEntries(Object.entries(tarballs).map(([name, { spec }]) => [name, spec])) },
        devDependencies,
      }),
    );
    writeFileSync(join(hostDir, 'package-lock.json'), hostLockfile({ repo: REPO, dependencies, devDependencies, tarballs }));
    // From npm's cache and the tarballs only: the test reaches no registry.
    await run('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: hostDir, timeout: 180_000 });
    await run(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: hostDir, timeout: 120_000 });

    database = `ngw_host_${process.pid}_${Date.now().toString(36)}`;
    await withAdminClient((client) => client.query(`CREATE DATABASE ${database}`));
    dbUrl = databaseUrl(database);
    const db = new Client({ connectionString: dbUrl });
    await db.connect();
    // The host's own users table, in public, under the name the gateway uses for its own.
    await db.query('CREATE TABLE users (id uuid PRIMARY KEY, org_id uuid NOT NULL, email text NOT NULL UNIQUE, is_admin boolean NOT NULL, active boolean NOT NULL)');
    const orgId = randomUUID();
    for (const [key, isAdmin, active] of [
      ['active', false, true],
      ['admin', true, true],
      ['inactive', false, false],
      ['newcomer', false, true],
    ] as const) {
      const id = randomUUID();
      await db.query('INSERT INTO users VALUES ($1, $2, $3, $4, $5)', [id, orgId, `${key}@host.test`, isAdmin, active]);
      users[key] = { id, orgId, token: tokenFor(id) };
    }
    await db.end();

    // npx runs the installed bin; offline, so a missing one fails here instead of being fetched.
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', npm_config_offline: 'true', DATABASE_URL: dbUrl, DATABASE_SCHEMA: 'notify_gateway' };
    migrateOutput = (await run('npx', ['--no', 'notify-gateway', 'migrate'], { cwd: hostDir, env, timeout: 60_000 })).stdout;

    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    host = spawn(process.execPath, ['dist/main.js'], {
      cwd: hostDir,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'test',
        PORT: String(port),
        DATABASE_URL: dbUrl,
        JWT_SECRET: TEST_JWT_SECRET,
        FRONTEND_URL: ALLOWED_ORIGIN,
        HOST_API_KEY,
        REDIS_URL: 'redis://127.0.0.1:6379',
        REDIS_KEY_PREFIX: `ngw-host-${process.pid}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    host.stdout?.setEncoding('utf8').on('data', (chunk: string) => (hostOutput += chunk));
    host.stderr?.setEncoding('utf8').on('data', (chunk: string) => (hostOutput += chunk));
    for (const deadline = Date.now() + 30_000; ; await new Promise((done) => setTimeout(done, 200))) {
      if (host.exitCode !== null) throw new Error(`host exited: ${hostOutput}`);
      if (Date.now() > deadline) throw new Error(`host did not answer /health/live: ${hostOutput}`);
      const up = await fetch(`${url}/health/live`).then((response) => response.ok, () => false);
      if (up) break;
    }
  }, 420_000);

  afterAll(async () => {
    if (host && host.exitCode === null) {
      const exited = new Promise((done) => host?.once('close', done));
      host.kill('SIGTERM');
      await Promise.race([exited, new Promise((done) => setTimeout(done, 10_000))]);
      if (host.exitCode === null) host.kill('SIGKILL');
    }
    if (database) await withAdminClient((client) => client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
    if (work) rmSync(work, { recursive: true, force: true });
  }, 60_000);

  it('docs/BACKEND.md shows exactly the host files this test compiles and runs', () => {
    const guide = readFileSync(join(REPO, 'docs/BACKEND.md'), 'utf8');
    for (const file of ['app.module.ts', 'main.ts', 'host-user.directory.ts', 'host-database.ts', 'order-notifier.ts', 'host.controller.ts']) {
      expect(guide).toContain(['```ts', readFileSync(join(HOST_TEMPLATE, 'src', file), 'utf8').trimEnd(), '```'].join('\n'));
    }
    expect(guide).toContain('npx notify-gateway migrate');
  });

  it('packs publishable packages whose versions agree, with LICENSE, types and the migrations', () => {
    const manifests = Object.fromEntries(
      PACKAGES.map((dir) => {
        const manifest = JSON.parse(readFileSync(join(REPO, dir, 'package.json'), 'utf8')) as Record<string, unknown> & { name: string };
        return [manifest.name, manifest];
      }),
    );
    const versions = new Set(packed.map((p) => p.version));
    expect(versions.size).toBe(1);
    const [version] = versions;
    for (const p of packed) {
      expect(manifests[p.name].private).toBeUndefined();
      expect(p.files.map((f) => f.path)).toEqual(expect.arrayContaining(['LICENSE', 'package.json', 'dist/index.js', 'dist/index.d.ts']));
      expect(p.files.some((f) => f.path.startsWith('src/') || f.path.startsWith('test/') || f.path.endsWith('.tsbuildinfo'))).toBe(false);
    }
    const backend = packed.find((p) => p.name === '@notify-gateway/backend');
    expect(backend?.files.map((f) => f.path)).toEqual(expect.arrayContaining(['migrations/migration_lock.toml', 'dist/cli/notify-gateway.cli.js']));
    expect(backend?.files.some((f) => /^migrations\/\d+_[a-z_]+\/migration\.sql$/.test(f.path))).toBe(true);
    const dependencies = (name: string) => manifests[name].dependencies as Record<string, string>;
    expect(dependencies('@notify-gateway/backend')['@notify-gateway/contracts']).toBe(version);
    expect(dependencies('@notify-gateway/client')['@notify-gateway/contracts']).toBe(version);
    // The host's Nest packages are the ones the gateway runs on: peers, never a second copy.
    expect(Object.keys(manifests['@notify-gateway/backend'].peerDependencies as object)).toEqual(
      expect.arrayContaining(['@nestjs/common', '@nestjs/core', '@nestjs/websockets', '@nestjs/platform-socket.io', '@nestjs/platform-express']),
    );
    expect(Object.keys(dependencies('@notify-gateway/backend')).filter((name) => /^@nestjs\/(common|core|websockets|platform-)/.test(name))).toEqual([]);
  });

  it('the client installs alone, with contracts from a tarball, and loads', async () => {
    const app = join(work, 'frontend');
    mkdirSync(app);
    const tarballs = {
      '@notify-gateway/client': { spec: tarball('@notify-gateway/client'), workspace: 'packages/client' },
      '@notify-gateway/contracts': { spec: tarball('@notify-gateway/contracts'), workspace: 'packages/contracts' },
    };
    const specs = Object.fromEntries(Object.entries(tarballs).map(([name, { spec }]) => [name, spec]));
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'host-app', private: true, dependencies: specs, devDependencies: {} }));
    writeFileSync(join(app, 'package-lock.json'), hostLockfile({ repo: REPO, dependencies: {}, devDependencies: {}, tarballs }));
    await run('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app, timeout: 120_000 });
    const script = "const c = require('@notify-gateway/client'); const client = c.createNotificationClient({ url: 'http://127.0.0.1:9', getToken: async () => 't', autoConnect: false }); console.log(typeof client.connect)";
    expect((await run(process.execPath, ['-e', script], { cwd: app, timeout: 20_000 })).stdout.trim()).toBe('function');
  });

  it('installs real copies, not workspace links, and importing the entry point starts nothing', async () => {
    for (const name of ['@notify-gateway/backend', '@notify-gateway/contracts']) {
      expect(lstatSync(join(hostDir, 'node_modules', name)).isSymbolicLink()).toBe(false);
    }
    expect(existsSync(join(hostDir, 'node_modules/@nestjs/core/node_modules'))).toBe(false);
    // The process exits by itself once the import is done: no server, timer or connection was started.
    const { stdout } = await run(process.execPath, ['-e', "const g = require('@notify-gateway/backend'); console.log(Object.keys(g).sort().join(','))"], {
      cwd: hostDir,
      timeout: 20_000,
    });
    expect(stdout.trim().split(',')).toEqual(
      expect.arrayContaining(['NotificationGatewayModule', 'setupNotificationGateway', 'migrateNotificationGateway', 'NotificationService', 'ConnectionService', 'UserAccountService', 'USER_DIRECTORY_SOURCE']),
    );
  });

  it('applies the shipped migrations into their own schema; the host\'s users table is untouched', async () => {
    const shipped = readdirSync(join(REPO, 'prisma/migrations'), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
    expect(JSON.parse(migrateOutput.trim().split('\n').pop() ?? '{}')).toMatchObject({ msg: 'migrations applied', applied: shipped });
    const db = new Client({ connectionString: dbUrl });
    await db.connect();
    try {
      const tables = await db.query<{ schema: string; name: string }>(
        "SELECT table_schema AS schema, table_name AS name FROM information_schema.tables WHERE table_schema IN ('public', 'notify_gateway') ORDER BY 1, 2",
      );
      const names = tables.rows.map((t) => `${t.schema}.${t.name}`);
      expect(names.filter((n) => n.startsWith('public.'))).toEqual(['public.users']);
      expect(names).toEqual(expect.arrayContaining(['notify_gateway._prisma_migrations', 'notify_gateway.users', 'notify_gateway.notifications']));
      const hostUsers = await db.query('SELECT count(*)::int AS n FROM public.users');
      expect(hostUsers.rows[0]).toEqual({ n: Object.keys(users).length });
    } finally {
      await db.end();
    }
  });

  it('leaves the host\'s routes alone: its guard and error format, no gateway guard, CORS, helmet or origin refusal', async () => {
    const refused = await http(`${url}/orders/ping`);
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ message: 'Forbidden resource', error: 'Forbidden', statusCode: 403 });
    const allowed = await http(`${url}/orders/ping`, { headers: { 'x-host-key': HOST_API_KEY }, origin: FOREIGN_ORIGIN });
    expect(allowed.status).toBe(200);
    expect(allowed.body).toEqual({ ok: true });
    expect(allowed.headers.get('content-security-policy')).toBeNull();
    expect(allowed.headers.get('access-control-allow-origin')).toBeNull();
    const missing = await http(`${url}/orders/nothing-here`, { headers: { 'x-host-key': HOST_API_KEY } });
    expect(missing.status).toBe(404);
    expect(missing.body).not.toHaveProperty('code');
    // The host left /metrics out.
    expect((await http(`${url}/metrics`)).body).not.toHaveProperty('code');

    // The gateway's own routes keep the gateway's policy.
    const gateway = await http(`${url}/notifications`);
    expect(gateway.status).toBe(401);
    expect(gateway.body).toEqual({ statusCode: 401, code: 'UNAUTHORIZED', message: expect.any(String) });
    expect(gateway.headers.get('content-security-policy')).not.toBeNull();
    expect(gateway.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
    const foreign = await http(`${url}/notifications`, { token: users.active.token, origin: FOREIGN_ORIGIN });
    expect(foreign.status).toBe(403);
    expect(foreign.body).toMatchObject({ code: 'ORIGIN_NOT_ALLOWED' });
    expect((await http(`${url}/health`)).status).toBe(200);
  });

  it('a host service publishes through the injected NotificationService; socket.io and EventSource receive it', async () => {
    const socket = await connect(url, { token: users.active.token });
    const admin = await connect(url, { token: users.admin.token });
    const stream = eventSource(url, { ticket: await mintTicket(url, users.active.token) });
    try {
      await stream.opened();
      const live = nextEvent(socket, 'notification:new');
      const strayForAdmin = nextEvent(admin, 'notification:new', 1500).then(
        () => 'received',
        () => 'none',
      );
      const sent = await http<{ id: string; title: string }>(`${url}/orders/${users.active.id}/shipped`, { method: 'POST', headers: { 'x-host-key': HOST_API_KEY } });
      expect(sent.status).toBe(201);
      expect(sent.body).toMatchObject({ id: expect.any(String), scope: 'USER', title: 'Your order has shipped', data: { orderNumber: 'A-1001' } });
      expect((await live).id).toBe(sent.body.id);
      const [viaSse] = await stream.waitForCount((m) => m.event === 'notification:new', 1);
      expect(viaSse.data).toMatchObject({ id: sent.body.id });
      expect(await strayForAdmin).toBe('none');
    } finally {
      stream.close();
      socket.close();
      admin.close();
    }
  });

  it('stores a notification for a user the host vouches for who has never connected; they get it on first sync', async () => {
    const shipped = (userId: string) => http<{ id: string; code?: string }>(`${url}/orders/${userId}/shipped`, { method: 'POST', headers: { 'x-host-key': HOST_API_KEY } });
    const sent = await shipped(users.newcomer.id);
    expect(sent.status).toBe(201);
    // Nobody the host's table knows, and a user it reports inactive: still no recipient.
    expect((await shipped(randomUUID())).status).toBe(404);
    expect((await shipped(users.inactive.id)).status).toBe(404);

    const page = await http<{ items: { id: string }[] }>(`${url}/notifications`, { token: users.newcomer.token });
    expect(page.status).toBe(200);
    expect(page.body.items.map((item) => item.id)).toEqual([sent.body.id]);
  });

  it('refuses a user the host\'s directory reports inactive, and ends the sessions of one it deactivates', async () => {
    expect(await refusal(url, { token: users.inactive.token })).toBe('UNAUTHORIZED');
    expect((await http(`${url}/notifications`, { token: users.inactive.token })).status).toBe(401);
    const unknown = tokenFor(randomUUID());
    expect(await refusal(url, { token: unknown })).toBe('UNAUTHORIZED');

    const socket = await connect(url, { token: users.admin.token });
    const ended = waitForDisconnect(socket);
    const deactivated = await http(`${url}/orders/${users.admin.id}/deactivate`, { method: 'POST', headers: { 'x-host-key': HOST_API_KEY } });
    expect(deactivated.status).toBe(201);
    expect(await ended).toBe('io server disconnect');
    expect(await refusal(url, { token: users.admin.token })).toBe('UNAUTHORIZED');
  });
});
