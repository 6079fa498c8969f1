import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyMigrations } from '../../src/core/prisma/migrator';
import { seedDemoData } from '../../src/core/prisma/seed';
import { databaseUrl, withAdminClient } from './test-database';

export const SEED_PASSWORD = 'Test-Seed-Password-1!';

/** One database per run, migrated and seeded; named so concurrent runs never collide. */
export default async function globalSetup(): Promise<void> {
  const name = `ngw_test_${process.pid}_${Date.now().toString(36)}`;
  await withAdminClient((client) => client.query(`CREATE DATABASE ${name}`));
  const url = databaseUrl(name);
  await applyMigrations(url);
  await seedDemoData(url, SEED_PASSWORD);
  process.env.TEST_DATABASE_NAME = name;
  process.env.TEST_DATABASE_URL = url;
  process.env.TEST_SEED_PASSWORD = SEED_PASSWORD;
  mkdirSync('test-artifacts', { recursive: true });
  process.env.TEST_LOG_FILE = join(process.cwd(), 'test-artifacts', `logs-${name}.jsonl`);
  writeFileSync(process.env.TEST_LOG_FILE, '');
}
