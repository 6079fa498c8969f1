'use strict';
/**
 * The bench's own database: created per run, migrated with the project's migrator, filled with
 * plain SQL, dropped at the end. Password hashes are placeholders: the bench signs its tokens.
 */

const { Client } = require('pg');
const { randomUUID } = require('node:crypto');

/** @param {string} adminUrl postgres://…/postgres @param {string} name */
function urlFor(adminUrl, name) {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** @template T @param {string} adminUrl @param {(client: import('pg').Client) => Promise<T>} work */
async function withClient(adminUrl, work) {
  const client = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * @param {{ adminUrl: string, repoRoot: string, users: number, admins: number }} options
 * @returns {Promise<{ name: string, url: string, tenantId: string, users: { id: string }[], admins: { id: string }[] }>}
 */
async function createBenchDatabase(options) {
  const name = `ngw_bench_${Date.now()}`;
  await withClient(options.adminUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = urlFor(options.adminUrl, name);
  const { applyMigrations } = require(`${options.repoRoot}/apps/backend/dist/core/prisma/migrator.js`);
  await applyMigrations(url);
  const tenantId = randomUUID();
  const { users, admins } = await withClient(url, async (client) => {
    await client.query('INSERT INTO tenants (id, slug, name) VALUES ($1, $2, $3)', [tenantId, 'bench', 'Bench']);
    /** @param {string} role @param {number} count @param {string} prefix */
    const insert = async (role, count, prefix) =>
      (
        await client.query(
          `INSERT INTO users (id, email, password_hash, role, is_active, tenant_id, updated_at)
           SELECT gen_random_uuid(), $1 || g || '@bench.test', 'bench-no-login', $2::"Role", true, $3, now()
           FROM generate_series(1, $4::int) AS g ORDER BY g
           RETURNING id`,
          [prefix, role, tenantId, count],
        )
      ).rows;
    const usersRows = await insert('USER', options.users, 'user');
    const adminRows = await insert('ADMIN', options.admins, 'admin');
    await client.query('ANALYZE');
    return { users: usersRows, admins: adminRows };
  });
  return { name, url, tenantId, users, admins };
}

/** Drops the database, closing any session still on it. @param {string} adminUrl @param {string} name */
async function dropBenchDatabase(adminUrl, name) {
  if (!/^ngw_bench_\d+$/.test(name)) throw new Error(`refusing to drop ${name}`);
  await withClient(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

module.exports = { createBenchDatabase, dropBenchDatabase };
