// `npm run db:migrate` and `npx notify-gateway migrate`: applies committed SQL migrations like
// `prisma migrate deploy`, to DATABASE_URL, in DATABASE_SCHEMA (default public).
import { ConfigError } from '../../config/config-error.js';
import { migrateNotificationGateway } from './migrate-gateway.js';
import { redactSecrets } from './migrator.js';

export async function runMigrate(env: Record<string, string | undefined>): Promise<number> {
  const databaseUrl = env.DATABASE_URL;
  if (!databaseUrl) {
    process.stderr.write('DATABASE_URL is not set\n');
    return 1;
  }
  try {
    const applied = await migrateNotificationGateway({ databaseUrl, databaseSchema: env.DATABASE_SCHEMA });
    process.stdout.write(`${JSON.stringify({ level: 'info', msg: 'migrations applied', applied })}\n`);
    return 0;
  } catch (err) {
    const message = redactSecrets(err instanceof Error ? err.message : String(err), databaseUrl);
    const variable = err instanceof ConfigError ? { variable: err.variable } : {};
    process.stderr.write(`${JSON.stringify({ level: 'error', msg: 'migration failed', error: message, ...variable })}\n`);
    return 1;
  }
}

if (require.main === module) void runMigrate(process.env).then((code) => process.exit(code));
