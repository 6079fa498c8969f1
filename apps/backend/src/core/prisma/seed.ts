import { randomUUID } from 'node:crypto';
import * as argon2 from 'argon2';
import { Client } from 'pg';

type SeedRole = 'USER' | 'ADMIN' | 'SUPER_ADMIN';

interface SeedUser {
  email: string;
  role: SeedRole;
  isActive: boolean;
}

interface SeedTenant {
  slug: string;
  name: string;
  users: SeedUser[];
}

const DEMO_TENANTS: readonly SeedTenant[] = [
  {
    slug: 'acme',
    name: 'Acme',
    users: [
      { email: 'root@platform.test', role: 'SUPER_ADMIN', isActive: true },
      { email: 'admin@acme.test', role: 'ADMIN', isActive: true },
      { email: 'user@acme.test', role: 'USER', isActive: true },
      { email: 'inactive@acme.test', role: 'USER', isActive: false },
    ],
  },
  {
    slug: 'globex',
    name: 'Globex',
    users: [
      { email: 'admin@globex.test', role: 'ADMIN', isActive: true },
      { email: 'user@globex.test', role: 'USER', isActive: true },
    ],
  },
];

/**
 * Idempotent demo data: upserts by slug/email, so ids survive re-runs while password hash, role,
 * activity and tenant are reset to the values above. Plain SQL over `pg` so it also runs against
 * embedded PGlite through its wire-protocol socket.
 */
export async function seedDemoData(databaseUrl: string, password: string): Promise<void> {
  // Hash before opening the transaction; argon2 is deliberately slow.
  const hashes = new Map<string, string>();
  await Promise.all(
    DEMO_TENANTS.flatMap((t) => t.users).map(async (u) => {
      hashes.set(u.email, await argon2.hash(password, { type: argon2.argon2id }));
    }),
  );

  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('BEGIN');
    for (const tenant of DEMO_TENANTS) {
      const { rows } = await client.query<{ id: string }>(
        `INSERT INTO tenants (id, slug, name)
         VALUES ($1, $2, $3)
         ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name
         RETURNING id`,
        [randomUUID(), tenant.slug, tenant.name],
      );
      const tenantId = rows[0]?.id;
      if (!tenantId) throw new Error(`Upsert of tenant ${tenant.slug} returned no id`);

      for (const user of tenant.users) {
        await client.query(
          `INSERT INTO users (id, email, password_hash, role, is_active, tenant_id, updated_at)
           VALUES ($1, $2, $3, $4::"Role", $5, $6, now())
           ON CONFLICT (email) DO UPDATE SET
             password_hash = EXCLUDED.password_hash,
             role = EXCLUDED.role,
             is_active = EXCLUDED.is_active,
             tenant_id = EXCLUDED.tenant_id,
             updated_at = now()`,
          [randomUUID(), user.email, hashes.get(user.email), user.role, user.isActive, tenantId],
        );
      }
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await client.end();
  }
}
