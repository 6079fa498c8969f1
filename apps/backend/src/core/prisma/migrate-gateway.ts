import { loadConfig } from '../../config/load-config.js';
import { applyMigrations, defaultMigrationsDir } from './migrator.js';

export interface MigrateGatewayOptions {
  /** `postgresql://` URL of the database, which may be one the host already uses. */
  databaseUrl: string;
  /** Schema of the gateway's tables (DATABASE_SCHEMA), created when missing; default `public`. */
  databaseSchema?: string;
}

/**
 * Applies the migrations shipped with the package (idempotent; concurrent callers wait on
 * Prisma's lock). For hosts that migrate at boot; `npx notify-gateway migrate` does the same.
 * Returns the names applied by this call. The options follow DATABASE_URL's and DATABASE_SCHEMA's rules.
 */
export async function migrateNotificationGateway(options: MigrateGatewayOptions): Promise<string[]> {
  const { config } = loadConfig({ NODE_ENV: 'development', DATABASE_URL: options.databaseUrl, DATABASE_SCHEMA: options.databaseSchema });
  return applyMigrations(options.databaseUrl, defaultMigrationsDir(), config.databaseSchema);
}
