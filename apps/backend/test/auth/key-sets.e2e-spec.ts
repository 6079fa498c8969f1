import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sign } from 'jsonwebtoken';
import { http } from '../support/http';
import { idpKey } from '../support/jwks-server';
import { freshUser, type TestUser } from '../support/sse';
import { startApp, TEST_JWT_SECRET, type RunningApp } from '../support/test-app';

/** Static key sets (JWT_SECRETS, JWT_PUBLIC_KEYS), the kid rules, and JWT_MAX_LIFETIME (docs/SECURITY.md, abuse findings). */
const OLD_SECRET = 'rotation-old-secret-0123456789abcdef0123456789';
const NEW_SECRET = 'rotation-new-secret-0123456789abcdef0123456789';

async function rest(app: RunningApp, token: string): Promise<number> {
  return (await http(`${app.url}/notifications/unread-count`, { token })).status;
}

/** Reasons of the AUTHENTICATION_FAILED lines written since `mark` (the log is shared by the file's apps). */
function reasons(app: RunningApp, mark: number): unknown[] {
  return app.logs.lines
    .slice(mark)
    .filter((line) => line.includes('"AUTHENTICATION_FAILED"'))
    .map((line) => (JSON.parse(line) as { reason: string }).reason);
}

describe('static key sets', () => {
  let user: TestUser;
  beforeAll(async () => {
    user = await freshUser('admin@acme.test');
  });

  describe('JWT_SECRETS without a primary key', () => {
    let running: RunningApp;
    beforeAll(async () => {
      running = await startApp({ JWT_SECRET: '', JWT_SECRETS: `old=${OLD_SECRET},new=${NEW_SECRET}` });
    });
    afterAll(() => running.close());

    it('verifies each kid with its own secret; an unknown, forged or missing kid is refused (logged UNKNOWN_KEY)', async () => {
      const hs = (secret: string, kid?: string): string => sign({ sub: user.id }, secret, { algorithm: 'HS256', expiresIn: 600, ...(kid ? { keyid: kid } : {}) });
      expect(await rest(running, hs(OLD_SECRET, 'old'))).toBe(200);
      expect(await rest(running, hs(NEW_SECRET, 'new'))).toBe(200);
      expect(await rest(running, hs(OLD_SECRET, 'new'))).toBe(401);
      const mark = running.logs.lines.length;
      for (const kid of ['other', '../../etc/passwd', "new' OR '1'='1", 'k'.repeat(1000)]) expect(await rest(running, hs(NEW_SECRET, kid))).toBe(401);
      // Two keys and no primary: a token without kid names none of them.
      expect(await rest(running, hs(NEW_SECRET))).toBe(401);
      // A kid that is not a string is never looked up.
      const body = `${Buffer.from(JSON.stringify({ alg: 'HS256', kid: ['new'] })).toString('base64url')}.${Buffer.from(JSON.stringify({ sub: user.id, exp: 9999999999 })).toString('base64url')}`;
      expect(await rest(running, `${body}.c2ln`)).toBe(401);
      expect(reasons(running, mark)).toEqual(['UNKNOWN_KEY', 'UNKNOWN_KEY', 'UNKNOWN_KEY', 'UNKNOWN_KEY', 'UNKNOWN_KEY', 'UNKNOWN_KEY']);
      // Login needs a primary key to sign with: off.
      expect((await http(`${running.url}/auth/login`, { body: { email: 'user@acme.test', password: 'ChangeMe123!' } })).status).toBe(404);
    });
  });

  describe('a primary key beside a set: the rotation from a single-key deployment', () => {
    let running: RunningApp;
    beforeAll(async () => {
      running = await startApp({ JWT_SECRET: TEST_JWT_SECRET, JWT_KEY_ID: 'current', JWT_SECRETS: `previous=${OLD_SECRET}` });
    });
    afterAll(() => running.close());

    it('a token without kid is verified with the primary key, as before; kids pick their key', async () => {
      expect(await rest(running, user.token())).toBe(200);
      expect(await rest(running, user.token({ keyid: 'current' }))).toBe(200);
      expect(await rest(running, sign({ sub: user.id }, OLD_SECRET, { algorithm: 'HS256', expiresIn: 600, keyid: 'previous' }))).toBe(200);
      expect(await rest(running, user.token({ keyid: 'previous' }))).toBe(401);
      expect(await rest(running, sign({ sub: user.id }, OLD_SECRET, { algorithm: 'HS256', expiresIn: 600 }))).toBe(401);
    });
  });

  describe('JWT_PUBLIC_KEYS from a JWKS file', () => {
    const keyA = idpKey('file-a');
    const keyB = idpKey('file-b');
    const dir = mkdtempSync(join(tmpdir(), 'jwks-'));
    let running: RunningApp;
    beforeAll(async () => {
      const file = join(dir, 'jwks.json');
      writeFileSync(file, JSON.stringify({ keys: [keyA.jwk, keyB.jwk] }));
      running = await startApp({ JWT_SECRET: '', JWT_PUBLIC_KEYS: file });
    });
    afterAll(async () => {
      await running.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('verifies RS256 tokens by kid; HS256 with the public key as secret is refused', async () => {
      const mark = running.logs.lines.length;
      expect(await rest(running, keyA.sign({ sub: user.id }))).toBe(200);
      expect(await rest(running, keyB.sign({ sub: user.id }))).toBe(200);
      expect(await rest(running, keyA.sign({ sub: user.id }, { keyid: 'file-b' }))).toBe(401);
      const confused = sign({ sub: user.id }, keyA.publicPem, { algorithm: 'HS256', keyid: 'file-a', expiresIn: 600 });
      expect(await rest(running, confused)).toBe(401);
      expect(reasons(running, mark)).toEqual(['INVALID_SIGNATURE', 'ALGORITHM_MISMATCH']);
    });
  });
});

describe('JWT_MAX_LIFETIME', () => {
  let user: TestUser;
  let limited: RunningApp;
  let unlimited: RunningApp;
  beforeAll(async () => {
    user = await freshUser('admin@acme.test');
    [limited, unlimited] = await Promise.all([startApp({ JWT_MAX_LIFETIME: '1h' }), startApp()]);
  });
  afterAll(async () => {
    await Promise.all([limited.close(), unlimited.close()]);
  });

  const forever = (): string => sign({ sub: user.id, exp: 253402300799 }, TEST_JWT_SECRET, { algorithm: 'HS256', noTimestamp: true });

  it('refuses a token with exp in year 9999 and no iat (logged LIFETIME_TOO_LONG); without the setting it is accepted as before', async () => {
    expect(await rest(unlimited, forever())).toBe(200);
    const mark = limited.logs.lines.length;
    expect(await rest(limited, forever())).toBe(401);
    expect(reasons(limited, mark)).toEqual(['LIFETIME_TOO_LONG']);
  });

  it('judges exp − iat: a 2 h token is refused even when issued long ago, a 1 h token accepted', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect(await rest(limited, sign({ sub: user.id, iat: now - 3600, exp: now + 3600 }, TEST_JWT_SECRET, { algorithm: 'HS256' }))).toBe(401);
    expect(await rest(limited, user.token({ expiresIn: 3600 }))).toBe(200);
    expect(await rest(limited, user.token({ expiresIn: 3600 * 2 }))).toBe(401);
  });
});
