import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import * as argon2 from 'argon2';
import { Client } from 'pg';
import { PrismaClient } from '../../generated/prisma/client.js';
import { applyMigrations, redactSecrets, repoRoot } from './migrator.js';
import { seedDemoData } from './seed.js';
import { databaseUrl, withAdminClient } from '../../../test/support/test-database';

// Real PostgreSQL (see docs/TOOLCHAIN): each run works in its own throwaway databases.
const MIGRATIONS_DIR = join(repoRoot(), 'prisma', 'migrations');
const SCHEMA_FILE = join(repoRoot(), 'prisma', 'schema.prisma');

const scratchDbs: string[] = [];

jest.setTimeout(60_000);

const urlFor = databaseUrl;
const withAdmin = withAdminClient;

async function createScratchDb(): Promise<string> {
  const name = `ngw_scratch_${randomBytes(6).toString('hex')}`;
  await withAdmin((c) => c.query(`CREATE DATABASE "${name}"`));
  scratchDbs.push(name);
  return urlFor(name);
}

async function withDb<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function localMigrationNames(dir: string = MIGRATIONS_DIR): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

function fileChecksum(dir: string, name: string): string {
  return createHash('sha256').update(readFileSync(join(dir, name, 'migration.sql'))).digest('hex');
}

// ---- A small reader of schema.prisma, so the expectations below come from the schema itself. ----

interface ExpectedColumn {
  column: string;
  nullable: boolean;
  type: string;
}

interface ExpectedTable {
  model: string;
  table: string;
  columns: ExpectedColumn[];
  indexes: string[];
  foreignKeys: { name: string; onDelete: string; onUpdate: string }[];
}

const REFERENTIAL_ACTIONS: Record<string, string> = {
  Cascade: 'CASCADE',
  SetNull: 'SET NULL',
  Restrict: 'RESTRICT',
  NoAction: 'NO ACTION',
  SetDefault: 'SET DEFAULT',
};

function parseSchema(source: string): { tables: ExpectedTable[]; enums: Map<string, string[]> } {
  const text = source.replace(/\/\/.*$/gm, '');
  const enums = new Map<string, string[]>();
  for (const m of text.matchAll(/enum\s+(\w+)\s*\{([^}]*)\}/g)) {
    enums.set(m[1], m[2].split(/\s+/).filter(Boolean));
  }
  const blocks = [...text.matchAll(/model\s+(\w+)\s*\{([^}]*)\}/g)].map((m) => ({ model: m[1], body: m[2] }));
  const tableOf = new Map(
    blocks.map((b) => [b.model, /@@map\("([^"]+)"\)/.exec(b.body)?.[1] ?? b.model] as const),
  );

  const tables = blocks.map(({ model, body }): ExpectedTable => {
    const table = tableOf.get(model) ?? model;
    const lines = body.split('\n').map((l) => l.trim()).filter(Boolean);
    const columnOf = new Map<string, string>();
    const columns: ExpectedColumn[] = [];
    const indexes: string[] = [];
    const foreignKeys: ExpectedTable['foreignKeys'] = [];

    for (const line of lines) {
      if (line.startsWith('@@')) continue;
      const [field, rawType] = line.split(/\s+/);
      const base = rawType.replace(/[?[\]]/g, '');
      if (tableOf.has(base)) continue;
      const column = /@map\("([^"]+)"\)/.exec(line)?.[1] ?? field;
      columnOf.set(field, column);
      const varchar = /@db\.VarChar\((\d+)\)/.exec(line);
      const type = enums.has(base)
        ? base
        : line.includes('@db.Uuid')
          ? 'uuid'
          : varchar
            ? `varchar(${varchar[1]})`
            : /@db\.Timestamptz\((\d+)\)/.test(line)
              ? `timestamptz(${/@db\.Timestamptz\((\d+)\)/.exec(line)?.[1]})`
              : ({ String: 'text', Boolean: 'bool', BigInt: 'int8', Json: 'jsonb', Int: 'int4' }[base] ?? base);
      columns.push({ column, nullable: rawType.endsWith('?'), type });
    }

    const cols = (list: string): string[] => list.split(',').map((f) => columnOf.get(f.trim()) ?? f.trim());
    for (const line of lines) {
      const [field, rawType] = line.split(/\s+/);
      if (line.includes('@id') && !line.startsWith('@@')) indexes.push(`${table}_pkey`);
      if (/@unique\b/.test(line) && !line.startsWith('@@')) indexes.push(`${table}_${columnOf.get(field)}_key`);
      const id = /^@@id\(\[([^\]]+)\]\)/.exec(line);
      if (id) indexes.push(`${table}_pkey`);
      const unique = /^@@unique\(\[([^\]]+)\]\)/.exec(line);
      if (unique) indexes.push(`${table}_${cols(unique[1]).join('_')}_key`);
      const index = /^@@index\(\[([^\]]+)\]\)/.exec(line);
      if (index) indexes.push(`${table}_${cols(index[1]).join('_')}_idx`);
      const rel = /@relation\((.*)\)/.exec(line);
      const fkFields = rel ? /fields:\s*\[([^\]]+)\]/.exec(rel[1]) : null;
      if (rel && fkFields) {
        const optional = rawType.endsWith('?');
        const onDelete = /onDelete:\s*(\w+)/.exec(rel[1])?.[1] ?? (optional ? 'SetNull' : 'Restrict');
        const onUpdate = /onUpdate:\s*(\w+)/.exec(rel[1])?.[1] ?? 'Cascade';
        foreignKeys.push({
          name: `${table}_${cols(fkFields[1]).join('_')}_fkey`,
          onDelete: REFERENTIAL_ACTIONS[onDelete],
          onUpdate: REFERENTIAL_ACTIONS[onUpdate],
        });
      }
    }
    return { model, table, columns, indexes: indexes.sort(), foreignKeys };
  });
  return { tables, enums };
}

describe('applyMigrations / seedDemoData against PostgreSQL', () => {
  let url: string;

  beforeAll(async () => {
    url = await createScratchDb();
  });

  afterAll(async () => {
    await withAdmin(async (c) => {
      for (const db of scratchDbs) await c.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
    });
  });

  it('applies every migration once, then nothing, recording Prisma-compatible rows', async () => {
    const names = localMigrationNames();
    expect(names.length).toBeGreaterThan(0);

    await expect(applyMigrations(url)).resolves.toEqual(names);
    await expect(applyMigrations(url)).resolves.toEqual([]);

    const rows = await withDb(url, (c) =>
      c.query<{
        id: string;
        checksum: string;
        migration_name: string;
        finished_at: Date | null;
        rolled_back_at: Date | null;
        applied_steps_count: number;
        logs: string | null;
      }>('SELECT * FROM _prisma_migrations ORDER BY migration_name'),
    );
    expect(rows.rows.map((r) => r.migration_name)).toEqual(names);
    for (const row of rows.rows) {
      expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(row.checksum).toBe(fileChecksum(MIGRATIONS_DIR, row.migration_name));
      expect(row.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.rolled_back_at).toBeNull();
      expect(row.applied_steps_count).toBe(1);
      expect(row.logs).toBeNull();
    }

    // Prisma's exact bookkeeping DDL.
    const ddl = await withDb(url, (c) =>
      c.query<{ column_name: string; data_type: string; is_nullable: string; column_default: string | null }>(
        `SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns
          WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
      ),
    );
    expect(ddl.rows.map((r) => [r.column_name, r.data_type, r.is_nullable, r.column_default])).toEqual([
      ['id', 'character varying', 'NO', null],
      ['checksum', 'character varying', 'NO', null],
      ['finished_at', 'timestamp with time zone', 'YES', null],
      ['migration_name', 'character varying', 'NO', null],
      ['logs', 'text', 'YES', null],
      ['rolled_back_at', 'timestamp with time zone', 'YES', null],
      ['started_at', 'timestamp with time zone', 'NO', 'now()'],
      ['applied_steps_count', 'integer', 'NO', '0'],
    ]);
  });

  it('refuses when an applied migration file no longer matches its checksum', async () => {
    const name = localMigrationNames()[0];
    await withDb(url, (c) =>
      c.query("UPDATE _prisma_migrations SET checksum = repeat('0', 64) WHERE migration_name = $1", [name]),
    );
    try {
      await expect(applyMigrations(url)).rejects.toThrow(new RegExp(`${name}.*modified`));
    } finally {
      await withDb(url, (c) =>
        c.query('UPDATE _prisma_migrations SET checksum = $2 WHERE migration_name = $1', [
          name,
          fileChecksum(MIGRATIONS_DIR, name),
        ]),
      );
    }
    await expect(applyMigrations(url)).resolves.toEqual([]);
  });

  it('refuses to continue after a failed migration (finished_at and rolled_back_at null)', async () => {
    await withDb(url, (c) =>
      c.query(
        `INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at, applied_steps_count)
         VALUES ($1, repeat('a', 64), '20990101000000_half_done', now(), 0)`,
        [randomUUID()],
      ),
    );
    try {
      await expect(applyMigrations(url)).rejects.toThrow(/20990101000000_half_done/);
    } finally {
      await withDb(url, (c) =>
        c.query("DELETE FROM _prisma_migrations WHERE migration_name = '20990101000000_half_done'"),
      );
    }
    await expect(applyMigrations(url)).resolves.toEqual([]);
  });

  it('rolls back a migration whose SQL fails, marks it rolled back, and retries it once fixed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ngw-migrations-'));
    try {
      cpSync(MIGRATIONS_DIR, dir, { recursive: true });
      const broken = '20990101000000_broken';
      mkdirSync(join(dir, broken));
      writeFileSync(
        join(dir, broken, 'migration.sql'),
        'CREATE TABLE "scratch_probe" ("id" INTEGER);\nSELECT * FROM "no_such_table";\n',
      );
      await expect(applyMigrations(url, dir)).rejects.toThrow(new RegExp(`${broken}.*no_such_table`));

      await withDb(url, async (c) => {
        const probe = await c.query("SELECT to_regclass('scratch_probe') AS t");
        expect(probe.rows[0].t).toBeNull();
        const row = await c.query<{ finished_at: Date | null; rolled_back_at: Date | null; logs: string }>(
          'SELECT finished_at, rolled_back_at, logs FROM _prisma_migrations WHERE migration_name = $1',
          [broken],
        );
        expect(row.rows).toHaveLength(1);
        expect(row.rows[0].finished_at).toBeNull();
        expect(row.rows[0].rolled_back_at).toBeInstanceOf(Date);
        expect(row.rows[0].logs).toMatch(/no_such_table/);
      });

      writeFileSync(join(dir, broken, 'migration.sql'), 'CREATE TABLE "scratch_probe" ("id" INTEGER);\n');
      await expect(applyMigrations(url, dir)).resolves.toEqual([broken]);
      await expect(applyMigrations(url, dir)).resolves.toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await withDb(url, async (c) => {
        await c.query('DROP TABLE IF EXISTS "scratch_probe"');
        await c.query("DELETE FROM _prisma_migrations WHERE migration_name = '20990101000000_broken'");
      });
    }
  });

  it('backfills delivery streams for rows stored before them: one stream each, dense offsets in seq order, an epoch per stream', async () => {
    const fresh = await createScratchDb();
    const dir = mkdtempSync(join(tmpdir(), 'ngw-migrations-'));
    try {
      const [first] = localMigrationNames();
      mkdirSync(join(dir, first as string));
      cpSync(join(MIGRATIONS_DIR, first as string), join(dir, first as string), { recursive: true });
      await applyMigrations(fresh, dir);
      await withDb(fresh, async (c) => {
        await c.query(`INSERT INTO tenants (id, slug, name) VALUES ('11111111-1111-4111-8111-111111111111', 't', 'T')`);
        await c.query(`INSERT INTO users (id, email, password_hash, tenant_id, updated_at) VALUES
          ('22222222-2222-4222-8222-222222222222', 'a@t', 'x', '11111111-1111-4111-8111-111111111111', now()),
          ('33333333-3333-4333-8333-333333333333', 'b@t', 'x', '11111111-1111-4111-8111-111111111111', now())`);
        // Interleaved audiences, so each stream's offsets must follow seq, not insertion count.
        for (const [scope, user, tenant] of [
          ['USER', '22222222-2222-4222-8222-222222222222', '11111111-1111-4111-8111-111111111111'],
          ['TENANT', null, '11111111-1111-4111-8111-111111111111'],
          ['USER', '33333333-3333-4333-8333-333333333333', '11111111-1111-4111-8111-111111111111'],
          ['USER', '22222222-2222-4222-8222-222222222222', '11111111-1111-4111-8111-111111111111'],
          ['GLOBAL', null, null],
          ['USER', '22222222-2222-4222-8222-222222222222', '11111111-1111-4111-8111-111111111111'],
        ]) {
          await c.query(`INSERT INTO notifications (id, scope, user_id, tenant_id, title, content) VALUES (gen_random_uuid(), $1, $2, $3, 't', 'c')`, [scope, user, tenant]);
        }
      });
      await applyMigrations(fresh);
      await withDb(fresh, async (c) => {
        const rows = await c.query<{ stream: string; offsets: string[] }>(
          `SELECT stream, array_agg(stream_offset::text ORDER BY seq) AS offsets FROM notifications GROUP BY stream ORDER BY stream`,
        );
        expect(rows.rows).toEqual([
          { stream: 'global', offsets: ['1'] },
          { stream: 'tenant:11111111-1111-4111-8111-111111111111', offsets: ['1'] },
          { stream: 'user:22222222-2222-4222-8222-222222222222', offsets: ['1', '2', '3'] },
          { stream: 'user:33333333-3333-4333-8333-333333333333', offsets: ['1'] },
        ]);
        const streams = await c.query<{ stream: string; epoch: string; last_offset: string }>('SELECT stream, epoch, last_offset::text FROM notification_streams ORDER BY stream');
        expect(streams.rows.map((r) => [r.stream, r.last_offset])).toEqual(rows.rows.map((r) => [r.stream, String(r.offsets.length)]));
        for (const row of streams.rows) expect(row.epoch).toMatch(/^[0-9a-f]{12}$/);
        expect(new Set(streams.rows.map((r) => r.epoch)).size).toBe(streams.rows.length);

        // The previous version's insert (no stream) still works on this schema and takes the next offset.
        const old = await c.query<{ stream: string; stream_offset: string }>(
          `INSERT INTO notifications (id, scope, user_id, tenant_id, title, content) VALUES (gen_random_uuid(), 'USER', '22222222-2222-4222-8222-222222222222', '11111111-1111-4111-8111-111111111111', 't', 'c') RETURNING stream, stream_offset::text`,
        );
        expect(old.rows).toEqual([{ stream: 'user:22222222-2222-4222-8222-222222222222', stream_offset: '4' }]);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serialises concurrent runs with the advisory lock', async () => {
    const fresh = await createScratchDb();
    const results = await Promise.all([applyMigrations(fresh), applyMigrations(fresh), applyMigrations(fresh)]);
    expect(results.flat().sort()).toEqual(localMigrationNames());
    const count = await withDb(fresh, (c) => c.query<{ n: number }>('SELECT count(*)::int AS n FROM _prisma_migrations'));
    expect(count.rows[0].n).toBe(localMigrationNames().length);
  });

  describe('schema agreement with schema.prisma', () => {
    const { tables, enums } = parseSchema(readFileSync(SCHEMA_FILE, 'utf8'));

    it('has exactly the tables, columns, nullability and types the schema declares', async () => {
      expect(tables.map((t) => t.table).sort()).toEqual(['notification_idempotency_keys', 'notification_read_marks', 'notification_reads', 'notification_streams', 'notifications', 'tenants', 'users']);
      const actual = await withDb(url, (c) =>
        c.query<{ table_name: string; column_name: string; is_nullable: string; udt_name: string; len: number | null; prec: number | null }>(
          `SELECT table_name, column_name, is_nullable, udt_name,
                  character_maximum_length AS len, datetime_precision AS prec
             FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name <> '_prisma_migrations'`,
        ),
      );
      const render = (r: (typeof actual.rows)[number]): string => {
        const type =
          r.udt_name === 'varchar' ? `varchar(${r.len})` : r.udt_name === 'timestamptz' ? `timestamptz(${r.prec})` : r.udt_name;
        return `${r.table_name}.${r.column_name} ${type} ${r.is_nullable === 'YES' ? 'NULL' : 'NOT NULL'}`;
      };
      const expected = tables.flatMap((t) =>
        t.columns.map((c) => `${t.table}.${c.column} ${c.type} ${c.nullable ? 'NULL' : 'NOT NULL'}`),
      );
      expect(actual.rows.map(render).sort()).toEqual(expected.sort());
    });

    it('has the enums, indexes and foreign keys Prisma names and emits', async () => {
      await withDb(url, async (c) => {
        const enumRows = await c.query<{ name: string; label: string }>(
          `SELECT t.typname AS name, e.enumlabel AS label FROM pg_type t
             JOIN pg_enum e ON e.enumtypid = t.oid ORDER BY t.typname, e.enumsortorder`,
        );
        const actualEnums = new Map<string, string[]>();
        for (const r of enumRows.rows) actualEnums.set(r.name, [...(actualEnums.get(r.name) ?? []), r.label]);
        expect(actualEnums).toEqual(enums);

        const idx = await c.query<{ tablename: string; indexname: string }>(
          `SELECT tablename, indexname FROM pg_indexes
            WHERE schemaname = current_schema() AND tablename <> '_prisma_migrations'`,
        );
        const fks = await c.query<{ constraint_name: string; delete_rule: string; update_rule: string }>(
          `SELECT constraint_name, delete_rule, update_rule FROM information_schema.referential_constraints
            WHERE constraint_schema = current_schema()`,
        );
        for (const t of tables) {
          expect(idx.rows.filter((r) => r.tablename === t.table).map((r) => r.indexname).sort()).toEqual(t.indexes);
        }
        expect(fks.rows.map((r) => `${r.constraint_name} ${r.delete_rule} ${r.update_rule}`).sort()).toEqual(
          tables.flatMap((t) => t.foreignKeys.map((f) => `${f.name} ${f.onDelete} ${f.onUpdate}`)).sort(),
        );
      });
      expect(tables.find((t) => t.table === 'notifications')?.indexes).toContain('notifications_user_id_seq_idx');
    });

    it('round-trips every model with every field through the generated Prisma client', async () => {
      const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) });
      try {
        const at = (iso: string): Date => new Date(iso);
        const tenant = await prisma.tenant.create({
          data: { id: randomUUID(), slug: 'roundtrip', name: 'Round Trip', createdAt: at('2026-01-02T03:04:05.678Z') },
        });
        const author = await prisma.user.create({
          data: {
            id: randomUUID(),
            email: 'author@roundtrip.test',
            passwordHash: '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA',
            role: 'SUPER_ADMIN',
            isActive: false,
            tenantId: tenant.id,
            createdAt: at('2026-01-02T03:04:05.001Z'),
            updatedAt: at('2026-01-02T03:04:05.002Z'),
          },
        });
        const recipient = await prisma.user.create({
          data: { email: 'recipient@roundtrip.test', passwordHash: 'x', tenantId: tenant.id },
        });
        expect(recipient.role).toBe('USER');
        expect(recipient.isActive).toBe(true);

        const data = { nested: { list: [1, 'two', null, true], n: 1.5 }, unicode: 'Zürich ✓' };
        const notification = await prisma.notification.create({
          data: {
            id: randomUUID(),
            scope: 'USER',
            tenantId: tenant.id,
            userId: recipient.id,
            createdById: author.id,
            title: 't'.repeat(200),
            content: 'c'.repeat(1000),
            priority: 'high',
            data,
            createdAt: at('2026-01-02T03:04:06.000Z'),
            stream: `user:${recipient.id}`,
            streamOffset: 1n,
          },
        });
        expect(typeof notification.seq).toBe('bigint');
        const second = await prisma.notification.create({
          data: { scope: 'GLOBAL', title: 'g', content: 'g', seq: notification.seq + 1000n, stream: 'global', streamOffset: 1n },
        });
        expect(second.seq).toBe(notification.seq + 1000n);
        expect(second.priority).toBe('medium');
        expect(second.data).toBeNull();
        await expect(
          prisma.notification.create({ data: { scope: 'GLOBAL', title: 't'.repeat(201), content: 'x', stream: 'global', streamOffset: 2n } }),
        ).rejects.toThrow();
        // One offset per stream, once.
        await expect(
          prisma.notification.create({ data: { scope: 'GLOBAL', title: 'again', content: 'x', stream: 'global', streamOffset: 1n } }),
        ).rejects.toThrow();
        const streamRow = await prisma.notificationStream.create({ data: { stream: 'global', epoch: 'abcdEFGH12', lastOffset: 1n } });
        expect(await prisma.notificationStream.findUniqueOrThrow({ where: { stream: 'global' } })).toEqual(streamRow);
        const keyRow = await prisma.notificationIdempotencyKey.create({
          data: { publisher: author.id, key: 'k-1', requestHash: 'h', notificationId: second.id, createdAt: at('2026-01-02T03:04:08.000Z') },
        });
        expect(await prisma.notificationIdempotencyKey.findUniqueOrThrow({ where: { publisher_key: { publisher: author.id, key: 'k-1' } } })).toEqual(keyRow);
        await prisma.notificationIdempotencyKey.delete({ where: { publisher_key: { publisher: author.id, key: 'k-1' } } });
        await prisma.notificationStream.delete({ where: { stream: 'global' } });

        const mark = await prisma.notificationReadMark.create({
          data: { userId: recipient.id, stream: `user:${recipient.id}`, epoch: 'abcdEFGH12', readOffset: 7n, updatedAt: at('2026-01-02T03:04:07.456Z') },
        });
        expect(await prisma.notificationReadMark.findUniqueOrThrow({ where: { userId_stream: { userId: recipient.id, stream: `user:${recipient.id}` } } })).toEqual(mark);
        await expect(prisma.notificationReadMark.create({ data: { userId: recipient.id, stream: `user:${recipient.id}`, epoch: 'x', readOffset: 1n } })).rejects.toThrow();

        const read = await prisma.notificationRead.create({
          data: { userId: recipient.id, notificationId: notification.id, readAt: at('2026-01-02T03:04:07.123Z') },
        });

        const tenantBack = await prisma.tenant.findUniqueOrThrow({ where: { slug: 'roundtrip' } });
        expect(tenantBack).toEqual(tenant);
        expect(tenantBack.createdAt.toISOString()).toBe('2026-01-02T03:04:05.678Z');
        const authorBack = await prisma.user.findUniqueOrThrow({ where: { email: 'author@roundtrip.test' } });
        expect(authorBack).toEqual(author);
        const notificationBack = await prisma.notification.findUniqueOrThrow({
          where: { seq: notification.seq },
          include: { reads: true, createdBy: true, user: true, tenant: true },
        });
        expect(notificationBack).toMatchObject({ ...notification, data });
        expect(notificationBack.reads).toEqual([read]);
        expect(notificationBack.createdBy?.id).toBe(author.id);
        const readBack = await prisma.notificationRead.findUniqueOrThrow({
          where: { userId_notificationId: { userId: recipient.id, notificationId: notification.id } },
        });
        expect(readBack.readAt.toISOString()).toBe('2026-01-02T03:04:07.123Z');

        const updatedTenant = await prisma.tenant.update({ where: { id: tenant.id }, data: { name: 'Renamed' } });
        expect(updatedTenant.name).toBe('Renamed');
        const updatedUser = await prisma.user.update({
          where: { id: author.id },
          data: { role: 'ADMIN', isActive: true, passwordHash: 'y' },
        });
        expect(updatedUser).toMatchObject({ role: 'ADMIN', isActive: true, passwordHash: 'y' });
        expect(updatedUser.updatedAt.getTime()).toBeGreaterThan(author.updatedAt.getTime());
        const updatedNotification = await prisma.notification.update({
          where: { id: notification.id },
          data: { data: { replaced: true }, priority: 'low', scope: 'TENANT', userId: null },
        });
        expect(updatedNotification).toMatchObject({ data: { replaced: true }, priority: 'low', scope: 'TENANT', userId: null });
        const updatedRead = await prisma.notificationRead.update({
          where: { userId_notificationId: { userId: recipient.id, notificationId: notification.id } },
          data: { readAt: at('2026-02-01T00:00:00.000Z') },
        });
        expect(updatedRead.readAt.toISOString()).toBe('2026-02-01T00:00:00.000Z');

        // Referential actions: deleting the author nulls created_by_id; deleting the tenant cascades.
        await prisma.notificationRead.delete({
          where: { userId_notificationId: { userId: recipient.id, notificationId: notification.id } },
        });
        await prisma.user.delete({ where: { id: author.id } });
        expect((await prisma.notification.findUniqueOrThrow({ where: { id: notification.id } })).createdById).toBeNull();
        await prisma.notification.delete({ where: { id: second.id } });
        await prisma.tenant.delete({ where: { id: tenant.id } });
        expect(await prisma.user.count({ where: { tenantId: tenant.id } })).toBe(0);
        expect(await prisma.notification.count({ where: { id: notification.id } })).toBe(0);
        expect(await prisma.notificationRead.count()).toBe(0);
        // A user's watermarks go with the user.
        expect(await prisma.notificationReadMark.count()).toBe(0);
      } finally {
        await prisma.$disconnect();
      }
    });
  });

  it('seeds demo data idempotently, keeping ids and resetting credentials', async () => {
    const url = await createScratchDb();
    await applyMigrations(url);
    await seedDemoData(url, 'ChangeMe123!');
    const snapshot = async (): Promise<{ tenants: string[]; users: { id: string; email: string; role: string; is_active: boolean; slug: string }[] }> =>
      withDb(url, async (c) => {
        const tenants = await c.query<{ slug: string; id: string }>('SELECT slug, id FROM tenants ORDER BY slug');
        const users = await c.query<{ id: string; email: string; role: string; is_active: boolean; slug: string }>(
          `SELECT u.id, u.email, u.role::text AS role, u.is_active, t.slug
             FROM users u JOIN tenants t ON t.id = u.tenant_id ORDER BY u.email`,
        );
        return { tenants: tenants.rows.map((t) => `${t.slug}:${t.id}`), users: users.rows };
      });
    const first = await snapshot();

    // Drift that a re-seed must repair without touching ids.
    await withDb(url, (c) =>
      c.query("UPDATE users SET role = 'USER', is_active = false, password_hash = 'stale' WHERE email = 'admin@acme.test'"),
    );
    await seedDemoData(url, 'ChangeMe123!');
    const second = await snapshot();

    expect(second).toEqual(first);
    expect(second.tenants).toHaveLength(2);
    expect(second.users.map((u) => `${u.email} ${u.role} ${u.is_active} ${u.slug}`)).toEqual([
      'admin@acme.test ADMIN true acme',
      'admin@globex.test ADMIN true globex',
      'inactive@acme.test USER false acme',
      'root@platform.test SUPER_ADMIN true acme',
      'user@acme.test USER true acme',
      'user@globex.test USER true globex',
    ]);

    const hashes = await withDb(url, (c) =>
      c.query<{ email: string; password_hash: string; updated_at: Date }>(
        'SELECT email, password_hash, updated_at FROM users ORDER BY email',
      ),
    );
    const user = hashes.rows.find((r) => r.email === 'user@acme.test');
    expect(user?.password_hash).toMatch(/^\$argon2id\$/);
    await expect(argon2.verify(user?.password_hash ?? '', 'ChangeMe123!')).resolves.toBe(true);
    await expect(argon2.verify(user?.password_hash ?? '', 'wrong')).resolves.toBe(false);
    const admin = hashes.rows.find((r) => r.email === 'admin@acme.test');
    await expect(argon2.verify(admin?.password_hash ?? '', 'ChangeMe123!')).resolves.toBe(true);
    expect(hashes.rows.every((r) => r.updated_at instanceof Date)).toBe(true);
  });

  it('redacts connection passwords from error text', () => {
    const dbUrl = 'postgresql://app:s3cr%40t@db.internal:5432/app';
    expect(redactSecrets('connect postgresql://app:s3cr%40t@db.internal:5432/app failed', dbUrl)).toBe(
      'connect postgresql://app:***@db.internal:5432/app failed',
    );
    expect(redactSecrets('auth failed for s3cr@t', dbUrl)).toBe('auth failed for ***');
  });
});
