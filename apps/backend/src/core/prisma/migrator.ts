import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Client } from 'pg';

/** Prisma Migrate's own advisory lock key, so this runner and `prisma migrate deploy` exclude each other. */
const PRISMA_MIGRATE_LOCK = 72707369;

/** Prisma's DDL for its bookkeeping table (schema engine, postgres flavour), verbatim. */
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
);
`;

interface MigrationRow {
  id: string;
  checksum: string;
  migration_name: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

interface LocalMigration {
  name: string;
  script: string;
  checksum: string;
  /** Same file with the other line-ending convention: Prisma accepts either (git autocrlf). */
  altChecksums: string[];
}

/** Walks up from this file to the directory holding `prisma/schema.prisma` (works from src/ and dist/). */
export function repoRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (existsSync(join(dir, 'prisma', 'schema.prisma'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(`prisma/schema.prisma not found in any parent of ${__dirname}`);
    }
    dir = parent;
  }
}

/**
 * The migrations next to this code: the repository's prisma/migrations in a source checkout
 * (which has tsconfig.app.json), the copy shipped in the npm package (`migrations/`) otherwise.
 * Never a parent directory's: an installed package must not pick up its host's own migrations.
 */
export function defaultMigrationsDir(): string {
  const packageRoot = resolve(__dirname, '..', '..', '..');
  if (existsSync(join(packageRoot, 'tsconfig.app.json'))) return resolve(repoRoot(), 'prisma', 'migrations');
  return join(packageRoot, 'migrations');
}

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

function readLocalMigrations(migrationsDir: string): LocalMigration[] {
  if (!existsSync(migrationsDir)) {
    throw new Error(`Migrations directory not found: ${migrationsDir}`);
  }
  return readdirSync(migrationsDir)
    .filter((entry) => statSync(join(migrationsDir, entry)).isDirectory())
    .sort()
    .map((name) => {
      const file = join(migrationsDir, name, 'migration.sql');
      if (!existsSync(file)) {
        throw new Error(`Migration ${name} has no migration.sql (${file})`);
      }
      const bytes = readFileSync(file);
      const script = bytes.toString('utf8');
      return {
        name,
        script,
        checksum: sha256Hex(bytes),
        altChecksums: [
          sha256Hex(script.replace(/\r\n/g, '\n')),
          sha256Hex(script.replace(/\n/g, '\r\n')),
        ],
      };
    });
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Applies pending migrations the way `prisma migrate deploy` does, so the resulting
 * `_prisma_migrations` table is one Prisma itself accepts. Returns the names applied by this call.
 */
export async function applyMigrations(
  databaseUrl: string,
  migrationsDir: string = defaultMigrationsDir(),
  schema = 'public',
): Promise<string[]> {
  const local = readLocalMigrations(migrationsDir);
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  let locked = false;
  try {
    if (schema !== 'public') {
      // Tables, types and _prisma_migrations all land in (and are looked up in) that schema only.
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`);
      await client.query(`SET search_path TO ${quoteIdentifier(schema)}`);
    }
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATE_LOCK]);
    locked = true;

    const exists = await client.query<{ regclass: string | null }>(
      "SELECT to_regclass('_prisma_migrations')::text AS regclass",
    );
    if (!exists.rows[0]?.regclass) {
      await client.query(CREATE_MIGRATIONS_TABLE);
    }

    const { rows } = await client.query<MigrationRow>(
      `SELECT id, checksum, migration_name, finished_at, rolled_back_at
         FROM _prisma_migrations ORDER BY started_at ASC`,
    );

    const failed = rows.find((r) => r.finished_at === null && r.rolled_back_at === null);
    if (failed) {
      throw new Error(
        `Migration ${failed.migration_name} failed previously (finished_at is null); ` +
          `fix the database, then mark it with \`prisma migrate resolve --rolled-back ${failed.migration_name}\` ` +
          `or \`--applied\` before migrating again`,
      );
    }

    const applied = new Map<string, MigrationRow>();
    for (const row of rows) {
      if (row.finished_at !== null && row.rolled_back_at === null) applied.set(row.migration_name, row);
    }

    for (const migration of local) {
      const row = applied.get(migration.name);
      if (!row) continue;
      const matches =
        row.checksum === migration.checksum || migration.altChecksums.includes(row.checksum);
      if (!matches) {
        throw new Error(
          `Migration ${migration.name} was modified after it was applied ` +
            `(checksum in database ${row.checksum}, file ${migration.checksum})`,
        );
      }
    }

    const appliedNow: string[] = [];
    for (const migration of local) {
      if (applied.has(migration.name)) continue;
      await applyOne(client, migration);
      appliedNow.push(migration.name);
    }
    return appliedNow;
  } finally {
    try {
      if (locked) await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATE_LOCK]);
    } finally {
      await client.end();
    }
  }
}

async function applyOne(client: Client, migration: LocalMigration): Promise<void> {
  const id = randomUUID();
  // Recorded before the script runs, like Prisma: a crash leaves a visible "failed" row.
  await client.query(
    `INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at, applied_steps_count)
     VALUES ($1, $2, $3, now(), 0)`,
    [id, migration.checksum, migration.name],
  );
  try {
    await client.query('BEGIN');
    await client.query(migration.script);
    await client.query(
      `UPDATE _prisma_migrations
          SET finished_at = now(), applied_steps_count = 1
        WHERE id = $1`,
      [id],
    );
    await client.query('COMMIT');
  } catch (err) {
    const message = errorMessage(err);
    // The script ran in a transaction, so once ROLLBACK succeeds nothing of it remains: record it as
    // rolled back (Prisma's own marker) so a fixed file can be retried. If ROLLBACK itself fails the
    // row stays unfinished and later runs refuse, as Prisma does after a partial migration.
    const rolledBack = await client.query('ROLLBACK').then(
      () => true,
      () => false,
    );
    await client
      .query(
        `UPDATE _prisma_migrations
            SET logs = $2, rolled_back_at = CASE WHEN $3::boolean THEN now() ELSE NULL END
          WHERE id = $1`,
        [id, message, rolledBack],
      )
      .catch(() => undefined);
    throw new Error(`Migration ${migration.name} failed: ${message}`);
  }
}

/** Removes credentials of any connection URL (and the given URL's password) from a message. */
export function redactSecrets(text: string, databaseUrl?: string): string {
  let out = text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*):[^@\s/]*@/gi, '$1:***@');
  if (databaseUrl) {
    try {
      const password = decodeURIComponent(new URL(databaseUrl).password);
      if (password) out = out.split(password).join('***');
    } catch {
      // Not a parseable URL: the pattern above already covered URL-shaped secrets.
    }
  }
  return out;
}
