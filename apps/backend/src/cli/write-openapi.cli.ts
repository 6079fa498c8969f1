// `npm run docs:openapi`: regenerates docs/openapi.json from the code (a test compares them).
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApp } from '../bootstrap.js';
import { loadConfig } from '../config/load-config.js';
import { repoRoot } from '../core/prisma/migrator.js';
import { buildOpenApiDocument } from '../common/openapi/openapi.js';

async function main(): Promise<void> {
  // The app is created, never started: nothing connects to this database.
  const { config } = loadConfig({ NODE_ENV: 'development', DATABASE_URL: 'postgresql://localhost/unused', LOG_LEVEL: 'silent' });
  const app = await createApp(config);
  const file = join(repoRoot(), 'docs', 'openapi.json');
  writeFileSync(file, `${JSON.stringify(buildOpenApiDocument(app), null, 2)}\n`);
  process.stdout.write(`wrote ${file}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
