// `npm run db:seed`: idempotent demo tenants and users.
import { redactSecrets } from './migrator.js';
import { seedDemoData } from './seed.js';

import { DEFAULT_SEED_PASSWORD as DEFAULT_PASSWORD } from '../../config/load-config.js';

async function main(): Promise<number> {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    process.stderr.write('DATABASE_URL is not set\n');
    return 1;
  }
  const password = process.env.SEED_PASSWORD || DEFAULT_PASSWORD;
  if (process.env.NODE_ENV === 'production' && password === DEFAULT_PASSWORD) {
    process.stderr.write('Refusing to seed production with the default password: set SEED_PASSWORD\n');
    return 1;
  }
  try {
    await seedDemoData(databaseUrl, password);
    process.stdout.write(`${JSON.stringify({ level: 'info', msg: 'demo data seeded' })}\n`);
    return 0;
  } catch (err) {
    const raw = err instanceof Error ? err.message : String(err);
    const message = redactSecrets(raw, databaseUrl).split(password).join('***');
    process.stderr.write(`${JSON.stringify({ level: 'error', msg: 'seed failed', error: message })}\n`);
    return 1;
  }
}

void main().then((code) => process.exit(code));
