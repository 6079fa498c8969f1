// `npm run db:migrate`: applies committed SQL migrations like `prisma migrate deploy`.
import { applyMigrations, redactSecrets } from './migrator.js';

async function main(): Promise<number> {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    process.stderr.write('DATABASE_URL is not set\n');
    return 1;
  }
  try {
    const applied = await applyMigrations(databaseUrl);
    process.stdout.write(`${JSON.stringify({ level: 'info', msg: 'migrations applied', applied })}\n`);
    return 0;
  } catch (err) {
    const message = redactSecrets(err instanceof Error ? err.message : String(err), databaseUrl);
    process.stderr.write(`${JSON.stringify({ level: 'error', msg: 'migration failed', error: message })}\n`);
    return 1;
  }
}

void main().then((code) => process.exit(code));
