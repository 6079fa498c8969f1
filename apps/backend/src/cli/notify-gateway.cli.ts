#!/usr/bin/env node
// The package's command line (`npx notify-gateway <command>`; docs/BACKEND.md).
import { runMigrate } from '../core/prisma/migrate.cli.js';

const USAGE = `usage: notify-gateway migrate

  migrate   apply the gateway's migrations to DATABASE_URL, in DATABASE_SCHEMA (default public)
`;

async function main(args: string[]): Promise<number> {
  if (args[0] === 'migrate' && args.length === 1) return runMigrate(process.env);
  process.stderr.write(USAGE);
  return args[0] === '--help' ? 0 : 1;
}

void main(process.argv.slice(2)).then((code) => process.exit(code));
