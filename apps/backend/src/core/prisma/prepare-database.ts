import type { AppConfig } from '../../config/app-config.js';
import { EmbeddedDatabase } from './embedded-database.js';
import { applyMigrations } from './migrator.js';
import { seedDemoData } from './seed.js';

export interface PreparedDatabase {
  url: string;
  /** Set for the embedded database, which lives and dies with the process. */
  stop?: () => Promise<void>;
}

/**
 * With DATABASE_URL: that database, migrated by `npm run db:migrate`. Without: the embedded
 * PGlite under DATA_DIR, migrated and seeded with the demo data on every start (idempotent).
 */
export async function prepareDatabase(config: AppConfig): Promise<PreparedDatabase> {
  if (config.databaseUrl) return { url: config.databaseUrl };
  const embedded = await EmbeddedDatabase.start(config.dataDir);
  await applyMigrations(embedded.url);
  await seedDemoData(embedded.url, config.seedPassword);
  return { url: embedded.url, stop: () => embedded.stop() };
}
