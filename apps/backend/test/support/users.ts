import { sign, type Algorithm, type SignOptions } from 'jsonwebtoken';
import { Client } from 'pg';
import { TEST_JWT_SECRET } from './test-app';

export const DEMO_EMAILS = [
  'root@platform.test',
  'admin@acme.test',
  'user@acme.test',
  'inactive@acme.test',
  'admin@globex.test',
  'user@globex.test',
] as const;
export type DemoEmail = (typeof DEMO_EMAILS)[number];

export interface DemoUser {
  id: string;
  tenantId: string;
  email: DemoEmail;
  role: string;
}

let cache: Map<DemoEmail, DemoUser> | undefined;

/** The seeded demo users of the run's database. */
export async function demoUsers(): Promise<Map<DemoEmail, DemoUser>> {
  if (cache) return cache;
  const client = new Client({ connectionString: process.env.TEST_DATABASE_URL });
  await client.connect();
  try {
    const result = await client.query<{ id: string; tenant_id: string; email: DemoEmail; role: string }>(
      // Only the seeded ones: tests add users of their own to the same database.
      'SELECT id, tenant_id, email, role FROM users WHERE email = ANY($1)',
      [[...DEMO_EMAILS]],
    );
    cache = new Map(result.rows.map((row) => [row.email, { id: row.id, tenantId: row.tenant_id, email: row.email, role: row.role }]));
    return cache;
  } finally {
    await client.end();
  }
}

export async function demoUser(email: DemoEmail): Promise<DemoUser> {
  const user = (await demoUsers()).get(email);
  if (!user) throw new Error(`${email} is not seeded`);
  return user;
}

/** A token as the login endpoint would issue it (HS256, test secret), with overrides. */
export async function tokenFor(email: DemoEmail, options: SignOptions = {}, secret: string = TEST_JWT_SECRET): Promise<string> {
  const user = await demoUser(email);
  return sign({ sub: user.id }, secret, { algorithm: 'HS256' as Algorithm, expiresIn: 900, ...options });
}

/** Runs SQL against the run's database (e.g. to deactivate a user). */
export async function sql<T extends Record<string, unknown>>(text: string, values: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: process.env.TEST_DATABASE_URL });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}
