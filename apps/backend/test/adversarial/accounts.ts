import { createPublicKey, randomUUID } from 'node:crypto';
import { sign, type SignOptions } from 'jsonwebtoken';
import { rsaKeys } from '../support/hostile-tokens';
import { demoUser, sql, type DemoEmail } from '../support/users';

/**
 * The suite's app verifies RS256 tokens with a pinned issuer and audience: the strictest
 * configuration, and the one where HS/RS confusion and iss/aud checks mean something.
 */
export const ISSUER = 'https://issuer.adversarial.test';
export const AUDIENCE = 'notify-gateway-adversarial';

/** The key set's kid for the same RSA key (a JWKS kid, for the token-lifecycle cases). */
export const JWKS_KID = 'adv-jwks-rs256';

export const APP_JWT_ENV = {
  JWT_ALGORITHM: 'RS256',
  JWT_PUBLIC_KEY: rsaKeys.publicKey,
  JWT_PUBLIC_KEYS: JSON.stringify({ keys: [{ ...createPublicKey(rsaKeys.publicKey).export({ format: 'jwk' }), kid: JWKS_KID, alg: 'RS256', use: 'sig' }] }),
  JWT_PRIVATE_KEY: rsaKeys.privateKey,
  JWT_ISSUER: ISSUER,
  JWT_AUDIENCE: AUDIENCE,
};

const now = (): number => Math.floor(Date.now() / 1000);

/** A token exactly as the deployment's identity provider would issue it. */
export function signFor(userId: string, options: SignOptions = {}, claims: Record<string, unknown> = {}): string {
  return sign({ sub: userId, ...claims }, rsaKeys.privateKey, { algorithm: 'RS256', expiresIn: 600, issuer: ISSUER, audience: AUDIENCE, ...options });
}

/** Claims a valid token would carry, for hand-built hostile tokens. */
export function validClaims(userId: string): Record<string, unknown> {
  return { sub: userId, iss: ISSUER, aud: AUDIENCE, iat: now(), exp: now() + 600 };
}

export type Role = 'USER' | 'ADMIN' | 'SUPER_ADMIN';

export interface Account {
  id: string;
  email: string;
  tenantId: string;
  role: Role;
  token(options?: SignOptions): string;
}

/**
 * A user created for one case (in the tenant of a demo user): a case's rate-limit budget,
 * connection count and inbox are its own, so running the whole set twice gives the same answers.
 */
export async function createAccount(role: Role, tenantOf: DemoEmail = 'admin@acme.test'): Promise<Account> {
  const { tenantId } = await demoUser(tenantOf);
  const email = `adv-${role.toLowerCase()}-${randomUUID()}@adversarial.test`;
  const [row] = await sql<{ id: string }>(
    `INSERT INTO users (id, email, password_hash, role, is_active, tenant_id, updated_at)
     VALUES (gen_random_uuid(), $1, '!', $2::"Role", true, $3, now()) RETURNING id`,
    [email, role, tenantId],
  );
  return { id: row.id, email, tenantId, role, token: (options) => signFor(row.id, options) };
}

/** Deletes the row (its notifications and reads go with it: ON DELETE CASCADE). */
export async function deleteAccount(id: string): Promise<void> {
  await sql('DELETE FROM users WHERE id = $1', [id]);
}
