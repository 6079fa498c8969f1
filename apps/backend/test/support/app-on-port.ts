import { createServer } from 'node:net';
import { createApp } from '../../src/bootstrap';
import { loadConfig } from '../../src/config/load-config';
import { LogCapture } from './log-capture';
import { ALLOWED_ORIGIN, TEST_JWT_SECRET, type RunningApp } from './test-app';

/** A port nothing listens on right now (the OS picks it; we release it at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * startApp on a port chosen beforehand: to stop a server and start "the same" one again, and to
 * put the page's own origin (http://127.0.0.1:PORT) in the allowlist before listening.
 */
export async function startAppOnPort(port: number, env: Record<string, string> = {}): Promise<RunningApp> {
  const databaseUrl = process.env.TEST_DATABASE_URL;
  if (!databaseUrl) throw new Error('TEST_DATABASE_URL is set by the jest global setup');
  const { config } = loadConfig({
    NODE_ENV: 'test',
    JWT_SECRET: TEST_JWT_SECRET,
    DATABASE_URL: databaseUrl,
    FRONTEND_URL: ALLOWED_ORIGIN,
    LOG_LEVEL: 'info',
    LOGIN_RATE_LIMIT_PER_IP: '1000',
    LOGIN_RATE_LIMIT_PER_EMAIL: '1000',
    CONNECT_RATE_PER_IP: '100000',
    MAX_CONNECTIONS_PER_USER: '50',
    MAX_CONNECTIONS_PER_IP: '10000',
    WS_RATE_LIMIT_POINTS: '1000',
    ...env,
  });
  const logs = new LogCapture();
  const app = await createApp(config, { logDestination: logs });
  await app.listen(port, '127.0.0.1');
  let closed = false;
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    config,
    logs,
    close: async () => {
      if (closed) return;
      closed = true;
      await app.close();
    },
  };
}
