import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { Prisma } from '../../generated/prisma/client';
import { isDatabaseUnavailable } from './database-unavailable';

const ADMIN_URL = process.env.BENCH_PG_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

/**
 * PostgreSQL at its connection limit (a reconnect storm after a restart, many instances' pools)
 * is an outage to retry, not a bad token or a broken request: found by the churn bench, where it
 * answered the handshakes UNAUTHORIZED (clients gave up after three) and POSTs 500.
 */
describe('isDatabaseUnavailable: the server at its connection limit', () => {
  const role = `ngw_limit_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: ADMIN_URL });

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE ROLE ${role} LOGIN CONNECTION LIMIT 0`);
  });
  afterAll(async () => {
    await admin.query(`DROP ROLE IF EXISTS ${role}`);
    await admin.end();
  });

  it('recognises the real "too many connections" refusal (SQLSTATE 53300)', async () => {
    const url = new URL(ADMIN_URL);
    url.username = role;
    const refused = await new Client({ connectionString: url.toString() }).connect().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect((refused as { code?: string }).code).toBe('53300');
    expect(isDatabaseUnavailable(refused)).toBe(true);
  });

  it("recognises Prisma's TooManyConnections (P2037)", () => {
    const error = new Prisma.PrismaClientKnownRequestError('Too many database connections opened: sorry, too many clients already', { code: 'P2037', clientVersion: Prisma.prismaVersion.client });
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it('still tells a bad query from an outage', () => {
    const error = new Prisma.PrismaClientKnownRequestError('Unique constraint failed', { code: 'P2002', clientVersion: Prisma.prismaVersion.client });
    expect(isDatabaseUnavailable(error)).toBe(false);
    expect(isDatabaseUnavailable(Object.assign(new Error('syntax error'), { code: '42601' }))).toBe(false);
  });
});
