import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, isFree } from './ports';

const run = promisify(execFile);

/** A port whose Cluster bus port (+10000) is free too. */
async function freeClusterPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const port = 20000 + Math.floor(Math.random() * 20000);
    if ((await isFree(port)) && (await isFree(port + 10000))) return port;
  }
  throw new Error('no free port pair');
}

async function waitForPing(port: number, up: boolean): Promise<void> {
  for (let i = 0; i < 100; i += 1) {
    const alive = await run('redis-cli', ['-p', String(port), 'ping']).then(
      (result) => result.stdout.trim() === 'PONG',
      () => false,
    );
    if (alive === up) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`redis on ${port} did not become ${up ? 'ready' : 'unreachable'}`);
}

/** A redis-server the test owns: on a spare loopback port, no persistence, stopped by the test. */
export class OwnRedis {
  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<OwnRedis> {
    const redis = new OwnRedis(await freePort(), mkdtempSync(join(tmpdir(), 'ngw-redis-')));
    await redis.resume();
    return redis;
  }

  /** Starts (again) on the same port. */
  async resume(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir, '--daemonize', 'no'],
      { stdio: 'ignore', detached: false },
    );
    child.unref();
    await waitForPing(this.port, true);
  }

  async stop(): Promise<void> {
    await run('redis-cli', ['-p', String(this.port), 'shutdown', 'nosave']).catch(() => undefined);
    await waitForPing(this.port, false);
  }

  async destroy(): Promise<void> {
    await this.stop().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A 3-node Redis Cluster on loopback, created for one test file and torn down after it. */
export class OwnRedisCluster {
  private constructor(
    readonly ports: number[],
    private readonly dir: string,
  ) {}

  /** host:port,host:port,host:port for REDIS_CLUSTER_NODES. */
  get nodes(): string {
    return this.ports.map((port) => `127.0.0.1:${port}`).join(',');
  }

  static async start(): Promise<OwnRedisCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'ngw-cluster-'));
    const ports: number[] = [];
    while (ports.length < 3) {
      const port = await freeClusterPort();
      if (!ports.includes(port)) ports.push(port);
    }
    for (const port of ports) {
      const nodeDir = join(dir, String(port));
      await run('mkdir', ['-p', nodeDir]);
      await run('redis-server', [
        '--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
        '--cluster-config-file', join(nodeDir, 'nodes.conf'), '--dir', nodeDir,
        '--save', '', '--appendonly', 'no', '--daemonize', 'yes',
      ]);
      await waitForPing(port, true);
    }
    await run('redis-cli', ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes']);
    for (let i = 0; i < 100; i += 1) {
      const { stdout } = await run('redis-cli', ['-p', String(ports[0]), 'cluster', 'info']);
      if (stdout.includes('cluster_state:ok')) return new OwnRedisCluster(ports, dir);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('cluster did not reach cluster_state:ok');
  }

  async destroy(): Promise<void> {
    for (const port of this.ports) await run('redis-cli', ['-p', String(port), 'shutdown', 'nosave']).catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A key prefix no other run on this Redis uses. */
export function uniquePrefix(label: string): string {
  return `ngwtest-${label}-${process.pid}-${Date.now().toString(36)}`;
}
