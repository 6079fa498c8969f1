import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { createApp } from './bootstrap.js';
import { ConfigError } from './config/config-error.js';
import { loadConfig } from './config/load-config.js';
import { prepareDatabase } from './core/prisma/prepare-database.js';

/** Bootstrap only: config, database, app, listen, and a bounded graceful shutdown. */
async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const { config, warnings } = loadConfig(process.env);
  for (const warning of warnings) logLine('warn', warning);

  const database = await prepareDatabase(config);
  const app = await createApp({ ...config, databaseUrl: database.url });
  await app.listen(config.port, config.host);
  logLine('info', `notification gateway listening on ${config.host}:${config.port}`, {
    database: database.stop ? 'embedded' : 'external',
    redis: config.redis.mode,
  });

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logLine('info', 'shutting down', { signal });
    // Past the bound, exit anyway: a stuck close must not block a deploy.
    setTimeout(() => {
      logLine('fatal', 'shutdown timed out', { timeoutMs: config.shutdownTimeoutMs });
      process.exit(1);
    }, config.shutdownTimeoutMs).unref();
    app
      .close()
      .then(() => database.stop?.())
      .then(() => {
        logLine('info', 'shutdown complete');
        process.exit(0);
      })
      .catch((error: unknown) => {
        logLine('fatal', 'shutdown failed', { error: error instanceof Error ? error.message : String(error) });
        process.exit(1);
      });
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

function logLine(level: 'info' | 'warn' | 'fatal', msg: string, extra: Record<string, unknown> = {}): void {
  const stream = level === 'fatal' ? process.stderr : process.stdout;
  stream.write(`${JSON.stringify({ level, time: Date.now(), msg, ...extra })}\n`);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    logLine('fatal', error.message, { variable: error.variable });
  } else {
    logLine('fatal', 'boot failed', { error: error instanceof Error ? error.message : String(error) });
  }
  process.exit(1);
});
