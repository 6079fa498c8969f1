import type { NestExpressApplication } from '@nestjs/platform-express';
import { createApp } from '../../src/bootstrap';
import type { AppConfig } from '../../src/config/app-config';
import { loadConfig } from '../../src/config/load-config';
import { LogCapture } from './log-capture';

export const TEST_JWT_SECRET = 'test-only-secret-0123456789abcdef0123456789abcdef';
export const ALLOWED_ORIGIN = 'https://app.example.test';

export interface RunningApp {
  app: NestExpressApplication;
  /** http://127.0.0.1:PORT */
  url: string;
  config: AppConfig;
  /** Every app of this test file logs here (see LogCapture). */
  logs: LogCapture;
  close(): Promise<void>;
}

/**
 * The production app, configured from an env map the way main.ts does, listening on a free port
 * or on `port` (to restart "the same" server, or to allowlist a page's own origin beforehand).
 */
export async function startApp(env: Record<string, string> = {}, port = 0): Promise<RunningApp> {
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
    // REST/SSE budgets out of the way of tests about something else (the adversarial suite sets its own).
    HTTP_RATE_LIMIT_CREATE: '100000',
    HTTP_RATE_LIMIT_READ: '100000',
    HTTP_RATE_LIMIT_MARK: '100000',
    HTTP_RATE_LIMIT_READ_ALL: '100000',
    HTTP_RATE_LIMIT_STREAM_TICKET: '100000',
    HTTP_RATE_LIMIT_STREAM_CONNECT: '100000',
    HTTP_RATE_LIMIT_STREAM_REPLAY: '100000',
    LOGIN_RATE_LIMIT_PER_EMAIL_GLOBAL: '100000',
    ...env,
  });
  const logs = LogCapture.shared();
  const app = await createApp(config, { logDestination: logs });
  await app.listen(port, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  const url = `http://127.0.0.1:${address.port}`;
  let closed = false;
  return {
    app,
    url,
    config,
    logs,
    close: async () => {
      if (closed) return;
      closed = true;
      await app.close();
    },
  };
}
