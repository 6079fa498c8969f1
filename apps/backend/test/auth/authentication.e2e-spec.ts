import { sign } from 'jsonwebtoken';
import { hostileTokens, rsaKeys } from '../support/hostile-tokens';
import { http } from '../support/http';
import { connect, refusal } from '../support/sockets';
import { startApp, type RunningApp } from '../support/test-app';
import { demoUser, tokenFor } from '../support/users';

const GENERIC_401 = { statusCode: 401, code: 'UNAUTHORIZED', message: 'Unauthorized' };
const password = (): string => process.env.TEST_SEED_PASSWORD ?? '';

describe('authentication (REST, WebSocket) against a listening app', () => {
  let running: RunningApp;
  const issued: string[] = [];

  beforeAll(async () => {
    running = await startApp();
  });
  afterAll(() => running.close());

  describe('POST /auth/login', () => {
    it('issues a Bearer token for a demo user', async () => {
      const response = await http<{ accessToken: string; tokenType: string; expiresIn: number }>(`${running.url}/auth/login`, {
        body: { email: 'user@acme.test', password: password() },
      });
      expect(response.status).toBe(200);
      expect(response.body.tokenType).toBe('Bearer');
      expect(response.body.expiresIn).toBe(900);
      issued.push(response.body.accessToken);
      const me = await http(`${running.url}/notifications/unread-count`, { token: response.body.accessToken });
      expect(me.status).toBe(200);
    });

    it.each([
      ['unknown email', 'nobody@acme.test', () => password()],
      ['wrong password', 'user@acme.test', () => 'wrong-password'],
      ['inactive user', 'inactive@acme.test', () => password()],
    ])('answers the same 401 body for %s', async (_case, email, secret) => {
      const response = await http(`${running.url}/auth/login`, { body: { email, password: secret() } });
      expect(response.status).toBe(401);
      expect(response.body).toEqual({ statusCode: 401, code: 'UNAUTHORIZED', message: 'Invalid credentials' });
    });

    it('refuses malformed bodies with VALIDATION_FAILED and no echo', async () => {
      const response = await http<{ code: string }>(`${running.url}/auth/login`, { body: { email: 'not-an-email', password: 42, extra: '<script>' } });
      expect(response.status).toBe(400);
      expect(response.body.code).toBe('VALIDATION_FAILED');
      expect(response.text).not.toContain('<script>');
    });
  });

  describe('hostile tokens get the same generic refusal on every transport', () => {
    it('REST: 401 with the generic body', async () => {
      for (const [name, token] of await hostileTokens()) {
        const response = await http(`${running.url}/notifications`, { token: token || undefined, headers: token ? {} : { authorization: 'Bearer ' } });
        expect({ name, status: response.status, body: response.body }).toEqual({ name, status: 401, body: GENERIC_401 });
      }
    });

    it('WebSocket: connect_error UNAUTHORIZED and nothing else', async () => {
      for (const [name, token] of await hostileTokens()) {
        expect({ name, result: await refusal(running.url, { token }) }).toEqual({ name, result: 'UNAUTHORIZED' });
      }
    });

    it('WebSocket: a missing token and a token in the query string are refused', async () => {
      expect(await refusal(running.url, {})).toBe('UNAUTHORIZED');
      const token = await tokenFor('user@acme.test');
      const viaQuery = await refusal(running.url, { query: { token, access_token: token } });
      expect(viaQuery).toBe('UNAUTHORIZED');
    });

    it('WebSocket: accepts a valid token in auth and in an Authorization header', async () => {
      const token = await tokenFor('user@acme.test');
      const viaAuth = await connect(running.url, { token });
      const viaHeader = await connect(running.url, { extraHeaders: { authorization: `Bearer ${token}` } });
      expect(viaAuth.connected && viaHeader.connected).toBe(true);
      viaAuth.close();
      viaHeader.close();
    });

    it('logs the reason for operators, never the token', async () => {
      const failures = running.logs.securityEvents('AUTHENTICATION_FAILED');
      const reasons = new Set(failures.map((entry) => entry.reason));
      for (const reason of ['ALGORITHM_MISMATCH', 'INVALID_SIGNATURE', 'TOKEN_EXPIRED', 'TOKEN_NOT_YET_VALID', 'INVALID_CLAIMS', 'UNKNOWN_USER', 'INACTIVE_USER', 'TOKEN_TOO_LARGE', 'MALFORMED_TOKEN', 'UNSUPPORTED_HEADER']) {
        expect(reasons).toContain(reason);
      }
      const secrets = [...(await hostileTokens()).map(([, token]) => token).filter((token) => token.length > 20), ...issued, password()];
      expect(running.logs.leaksOf(secrets)).toEqual([]);
    });
  });
});

describe('RS256 configuration', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp({
      JWT_ALGORITHM: 'RS256',
      JWT_SECRET: '',
      JWT_PUBLIC_KEY: rsaKeys.publicKey,
      JWT_PRIVATE_KEY: rsaKeys.privateKey,
      JWT_ISSUER: 'https://issuer.test',
      JWT_AUDIENCE: 'notifications',
    });
  });
  afterAll(() => running.close());

  it('accepts RS256 tokens with the configured issuer and audience', async () => {
    const user = await demoUser('user@acme.test');
    const token = sign({ sub: user.id }, rsaKeys.privateKey, { algorithm: 'RS256', expiresIn: 600, issuer: 'https://issuer.test', audience: 'notifications' });
    expect((await http(`${running.url}/notifications`, { token })).status).toBe(200);
    const socket = await connect(running.url, { token });
    socket.close();
  });

  it('refuses HS256 signed with the RS public key, wrong issuer and wrong audience', async () => {
    const user = await demoUser('user@acme.test');
    const claims = { sub: user.id, iss: 'https://issuer.test', aud: 'notifications', exp: Math.floor(Date.now() / 1000) + 600 };
    const confused = sign(claims, rsaKeys.publicKey as unknown as string, { algorithm: 'HS256', allowInsecureKeySizes: true } as never);
    const wrongIssuer = sign({ ...claims, iss: 'https://evil.test' }, rsaKeys.privateKey, { algorithm: 'RS256' });
    const wrongAudience = sign({ ...claims, aud: 'other' }, rsaKeys.privateKey, { algorithm: 'RS256' });
    for (const token of [confused, wrongIssuer, wrongAudience]) {
      const response = await http(`${running.url}/notifications`, { token });
      expect(response.body).toEqual(GENERIC_401);
      expect(await refusal(running.url, { token })).toBe('UNAUTHORIZED');
    }
  });

  it('login issues RS256 tokens that the same verifier accepts', async () => {
    const login = await http<{ accessToken: string }>(`${running.url}/auth/login`, { body: { email: 'admin@acme.test', password: password() } });
    expect(login.status).toBe(200);
    const header = JSON.parse(Buffer.from(login.body.accessToken.split('.')[0], 'base64url').toString()) as { alg: string };
    expect(header.alg).toBe('RS256');
    expect((await http(`${running.url}/notifications`, { token: login.body.accessToken })).status).toBe(200);
  });
});
