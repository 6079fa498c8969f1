import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';

/**
 * A TCP load balancer for tests that restart instances: each new connection goes to the next
 * backend in turn; a backend that refuses it (restarting) is skipped for the next one. Open
 * connections can be cut at random, as a flaky network would.
 */
export class BalancingProxy {
  private server?: Server;
  private next = 0;
  /** Client-side sockets with an established upstream, and which backend they went to. */
  private readonly open = new Map<Socket, { upstream: Socket; backend: number }>();

  private constructor(private readonly backends: number[]) {}

  static async start(backendPorts: number[]): Promise<BalancingProxy> {
    const proxy = new BalancingProxy(backendPorts);
    const server = createServer((client) => proxy.route(client, 0));
    proxy.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server?.address() as { port: number }).port}`;
  }

  /** Open connections per backend port. */
  counts(): Record<number, number> {
    const out: Record<number, number> = Object.fromEntries(this.backends.map((port) => [port, 0]));
    for (const { backend } of this.open.values()) out[this.backends[backend] as number] = (out[this.backends[backend] as number] ?? 0) + 1;
    return out;
  }

  /** Cuts `count` random open connections (both sides, like a dropped network). Returns how many. */
  cutRandom(count: number): number {
    const list = [...this.open.keys()];
    let cut = 0;
    for (; cut < count && list.length > 0; cut += 1) {
      const [client] = list.splice(Math.floor(Math.random() * list.length), 1) as [Socket];
      this.open.get(client)?.upstream.destroy();
      client.destroy();
    }
    return cut;
  }

  async close(): Promise<void> {
    for (const [client, { upstream }] of this.open) {
      upstream.destroy();
      client.destroy();
    }
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private route(client: Socket, tried: number): void {
    if (tried >= this.backends.length) {
      client.destroy();
      return;
    }
    const backend = this.next;
    this.next = (this.next + 1) % this.backends.length;
    client.pause();
    const upstream = tcpConnect(this.backends[backend] as number, '127.0.0.1');
    const refused = (): void => {
      upstream.destroy();
      if (!client.destroyed) this.route(client, tried + 1);
    };
    upstream.once('error', refused);
    upstream.once('connect', () => {
      upstream.off('error', refused);
      this.open.set(client, { upstream, backend });
      const end = (): void => {
        this.open.delete(client);
        upstream.destroy();
        client.destroy();
      };
      for (const socket of [client, upstream]) {
        socket.on('error', end);
        socket.on('close', end);
      }
      client.pipe(upstream).pipe(client);
      client.resume();
    });
    client.once('error', () => upstream.destroy());
  }
}
