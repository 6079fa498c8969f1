import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { killAll, ServerProcess } from '../support/server-process';

const openFiles = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;
/** The soft limit only: raising a hard limit needs a privilege the test does not have. */
const setOpenFileLimit = (pid: number, soft: number): void => {
  execFileSync('prlimit', ['--pid', String(pid), `--nofile=${soft}:`]);
};
const openFileLimit = (pid: number): number => Number(/^Max open files\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'))?.[1]);

/**
 * A connection flood can bring a server to its open-file limit. Its periodic connection metrics
 * read the RSS from /proc, which needs a descriptor: that threw EMFILE in the interval's tick, and
 * the unhandled rejection ended the process (seen at 20,000 connections in the bench).
 */
describe('at its open-file limit', () => {
  afterAll(killAll);

  it('the server keeps running through its metrics ticks, and serves again once descriptors are free', async () => {
    const server = await ServerProcess.start({ METRICS_INTERVAL_MS: '100' });
    const pid = server.child.pid as number;
    const original = openFileLimit(pid);
    const limit = openFiles(pid) + 8;
    setOpenFileLimit(pid, limit);
    const sockets: Socket[] = [];
    try {
      for (let i = 0; i < 40; i += 1) {
        const socket = connect(server.port, '127.0.0.1');
        socket.on('error', () => undefined);
        sockets.push(socket);
      }
      // Every descriptor is taken (libuv keeps one spare to shed what it cannot accept).
      for (const deadline = Date.now() + 5000; openFiles(pid) < limit - 1 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 50));
      expect(openFiles(pid)).toBeGreaterThanOrEqual(limit - 1);
      // Ten metrics ticks at the limit.
      await new Promise((r) => setTimeout(r, 1000));
      expect(server.hasExited).toBe(false);
    } finally {
      for (const socket of sockets) socket.destroy();
    }
    setOpenFileLimit(pid, original);
    await server.waitFor200('/health/live', 5000);
    expect(server.output).not.toMatch(/EMFILE[\s\S]*uv_resident_set_memory/);
    await server.stop();
  });
});
