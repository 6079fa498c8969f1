import { randomUUID } from 'node:crypto';
import { sign } from 'jsonwebtoken';
import { TEST_JWT_SECRET } from '../support/test-app';
import { sql } from '../support/users';

export interface Person {
  id: string;
  token: string;
}

/** A user of `role` in `tenantId`, with a token. */
export async function freshPerson(role: 'ADMIN' | 'USER' | 'SUPER_ADMIN', tenantId: string): Promise<Person> {
  const [row] = await sql<{ id: string }>(
    `INSERT INTO users (id, email, password_hash, role, is_active, tenant_id, updated_at)
     VALUES (gen_random_uuid(), $1, '!', $2::"Role", true, $3, now()) RETURNING id`,
    [`${role.toLowerCase()}-${randomUUID()}@store.test`, role, tenantId],
  );
  const id = (row as { id: string }).id;
  return { id, token: sign({ sub: id }, TEST_JWT_SECRET, { algorithm: 'HS256', expiresIn: 900 }) };
}

/** A tenant of its own with two ADMINs and one USER: nobody else's notifications land in it. */
export async function freshTenant(): Promise<{ tenantId: string; admin: Person; otherAdmin: Person; user: Person }> {
  const slug = `t-${randomUUID()}`;
  const [tenant] = await sql<{ id: string }>(`INSERT INTO tenants (id, slug, name) VALUES (gen_random_uuid(), $1, $1) RETURNING id`, [slug]);
  const tenantId = (tenant as { id: string }).id;
  return { tenantId, admin: await freshPerson('ADMIN', tenantId), otherAdmin: await freshPerson('ADMIN', tenantId), user: await freshPerson('USER', tenantId) };
}
