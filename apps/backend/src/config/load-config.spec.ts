import { generateKeyPairSync } from 'node:crypto';
import { resolve } from 'node:path';
import { ConfigError } from './config-error.js';
import { DEFAULT_SEED_PASSWORD, loadConfig } from './load-config.js';

type Env = Record<string, string | undefined>;

// The usual dev servers, and the gateway's own origin on the default PORT (the demo page).
const DEV_ORIGINS = ['http://localhost:3000', 'http://localhost:4000', 'http://localhost:4200', 'http://localhost:5173', 'http://127.0.0.1:4000'];
const GOOD_SECRET = 'unit-test-secret-0123456789abcdef0123456789abcdef'; // 48 bytes
const PRODUCTION: Env = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgresql://gateway:db-password@db.internal:5432/notifications',
  JWT_SECRET: GOOD_SECRET,
  FRONTEND_URL: 'https://app.example.com',
};
const PUBLIC_KEY = generateKeyPairSync('ec', {
  namedCurve: 'P-256',
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
}).publicKey;

/** The ConfigError loadConfig throws for `env`, or a failure when it does not throw one. */
function refusal(env: Env): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  describe('defaults (empty environment, development)', () => {
    const { config, warnings } = loadConfig({});

    it('runs in development on port 4000 on every interface', () => {
      expect(config.nodeEnv).toBe('development');
      expect(config.isProduction).toBe(false);
      expect(config.port).toBe(4000);
      expect(config.host).toBe('0.0.0.0');
    });

    it('uses the embedded database under .data and no Redis', () => {
      expect(config.databaseUrl).toBeUndefined();
      expect(config.dataDir).toBe(resolve('.data'));
      expect(config.redis).toEqual({ mode: 'none' });
    });

    it('has the documented limits and timings', () => {
      expect(config.ws).toEqual({ authTimeoutMs: 10000, maxPayloadBytes: 16384, maxBufferedBytes: 1048576, rateLimitPoints: 20, rateLimitDurationSec: 60 });
      expect(config.limits).toEqual({
        maxConnections: 20000,
        maxConnectionsPerUser: 10,
        maxConnectionsPerIp: 100,
        connectRatePerIp: 600,
        loginAttemptsPerIp: 30,
        loginAttemptsPerEmail: 10,
        httpBodyBytes: 65536,
        loginFailuresPerEmailGlobal: 100,
      });
      expect(config.sse).toEqual({ heartbeatMs: 25000, ticketTtlSec: 30, maxBufferedBytes: 1048576, maxTicketsPerUser: 10 });
      expect(config.httpBudgets).toEqual({ windowSec: 60, create: 60, read: 600, mark: 300, readAll: 30, streamTicket: 60, streamConnect: 60, streamReplay: 20 });
      expect(config.abuse).toEqual({
        maxConnectAttempts: 2,
        inboundFramesPerSec: 100,
        inboundBytesPerSec: 262144,
        maxRefusals: 50,
        securityLogBurst: 100,
        securityLogRatePerSec: 10,
      });
      expect(config.delivery).toEqual({ batchBodyBytes: 1048576 });
      expect(config.metrics).toEqual({ token: undefined, intervalMs: 60000 });
      expect(config.shutdownTimeoutMs).toBe(10000);
      expect(config.logLevel).toBe('info');
      expect(config.seedPassword).toBe(DEFAULT_SEED_PASSWORD);
      expect(config.swaggerEnabled).toBe(true);
    });

    it('uses HS256 with 15 minute login tokens, 5 s clock tolerance and 4096-character tokens', () => {
      expect(config.jwt).toMatchObject({
        algorithm: 'HS256',
        expiresInSec: 900,
        clockToleranceSec: 5,
        maxTokenLength: 4096,
        issuer: undefined,
        audience: undefined,
      });
    });

    it('allows only the usual dev-server origins', () => {
      expect(config.allowedOrigins).toEqual(DEV_ORIGINS);
    });

    it('warns about the generated secret and nothing else', () => {
      expect(warnings).toHaveLength(1);
    });
  });

  describe('values are parsed', () => {
    it('reads numbers, durations, booleans and lists', () => {
      const { config } = loadConfig({
        PORT: '8080',
        HOST: '127.0.0.1',
        DATA_DIR: '/var/lib/gateway',
        WS_AUTH_TIMEOUT_MS: '5000',
        JWT_EXPIRES_IN: '1h',
        JWT_ISSUER: 'https://issuer.example.com',
        JWT_AUDIENCE: 'notifications',
        SWAGGER_ENABLED: 'false',
        LOG_LEVEL: 'debug',
        METRICS_TOKEN: 'metrics-bearer',
        REDIS_CLUSTER_NODES: 'redis-a:7000, redis-b:7001',
      });
      expect(config.port).toBe(8080);
      expect(config.host).toBe('127.0.0.1');
      expect(config.dataDir).toBe('/var/lib/gateway');
      expect(config.ws.authTimeoutMs).toBe(5000);
      expect(config.jwt.expiresInSec).toBe(3600);
      expect(config.jwt.issuer).toBe('https://issuer.example.com');
      expect(config.jwt.audience).toBe('notifications');
      expect(config.swaggerEnabled).toBe(false);
      expect(config.logLevel).toBe('debug');
      expect(config.metrics.token).toBe('metrics-bearer');
      expect(config.redis).toEqual({
        mode: 'cluster',
        nodes: [
          { host: 'redis-a', port: 7000 },
          { host: 'redis-b', port: 7001 },
        ],
      });
    });

    it('takes a single Redis node from REDIS_URL', () => {
      expect(loadConfig({ REDIS_URL: 'rediss://:pw@cache:6380/1' }).config.redis).toEqual({ mode: 'single', url: 'rediss://:pw@cache:6380/1' });
    });

    it('treats an empty or blank value as unset', () => {
      const { config } = loadConfig({ PORT: '', DATABASE_URL: '  ', REDIS_URL: '' });
      expect(config.port).toBe(4000);
      expect(config.databaseUrl).toBeUndefined();
      expect(config.redis).toEqual({ mode: 'none' });
    });

    it('normalises origins (trailing slash) and removes duplicates', () => {
      const { config } = loadConfig({
        ...PRODUCTION,
        FRONTEND_URL: 'https://app.example.com/',
        ALLOWED_ORIGINS: 'https://app.example.com, https://admin.example.com:8443',
      });
      expect(config.allowedOrigins).toEqual(['https://app.example.com', 'https://admin.example.com:8443']);
    });

    it('accepts a PEM public key with escaped newlines and keeps login off without a private key', () => {
      const escaped = PUBLIC_KEY.trim().replace(/\n/g, '\\n');
      const { config } = loadConfig({ ...PRODUCTION, JWT_SECRET: undefined, JWT_ALGORITHM: 'ES256', JWT_PUBLIC_KEY: escaped });
      expect(config.jwt.algorithm).toBe('ES256');
      expect(config.jwt.verifyKey).toBe(PUBLIC_KEY.trim());
      expect(config.jwt.signKey).toBeNull();
      expect(config.jwt.generatedSecret).toBe(false);
    });
  });

  describe('each invalid value stops the boot naming its variable and the rule', () => {
    it.each<[string, Env, string, RegExp]>([
      ['PORT=abc', { PORT: 'abc' }, 'PORT', /whole number from 0 to 65535/],
      ['PORT=-1', { PORT: '-1' }, 'PORT', /whole number/],
      ['PORT=70000', { PORT: '70000' }, 'PORT', /whole number from 0 to 65535/],
      ['WS_AUTH_TIMEOUT_MS=0', { WS_AUTH_TIMEOUT_MS: '0' }, 'WS_AUTH_TIMEOUT_MS', /whole number from 100 to 60000/],
      ['WS_MAX_PAYLOAD_BYTES=1.5', { WS_MAX_PAYLOAD_BYTES: '1.5' }, 'WS_MAX_PAYLOAD_BYTES', /whole number/],
      ['HTTP_RATE_LIMIT_CREATE=0', { HTTP_RATE_LIMIT_CREATE: '0' }, 'HTTP_RATE_LIMIT_CREATE', /whole number from 1 to 1000000/],
      ['HTTP_RATE_LIMIT_WINDOW=3601', { HTTP_RATE_LIMIT_WINDOW: '3601' }, 'HTTP_RATE_LIMIT_WINDOW', /whole number from 1 to 3600/],
      ['SSE_MAX_TICKETS_PER_USER=0', { SSE_MAX_TICKETS_PER_USER: '0' }, 'SSE_MAX_TICKETS_PER_USER', /whole number from 1 to 10000/],
      ['WS_MAX_CONNECT_ATTEMPTS=0', { WS_MAX_CONNECT_ATTEMPTS: '0' }, 'WS_MAX_CONNECT_ATTEMPTS', /whole number from 1 to 10/],
      ['WS_INBOUND_BYTES_PER_SEC=1000', { WS_INBOUND_BYTES_PER_SEC: '1000' }, 'WS_INBOUND_BYTES_PER_SEC', /whole number from 16384/],
      [
        'WS_INBOUND_BYTES_PER_SEC below WS_MAX_PAYLOAD_BYTES',
        { WS_MAX_PAYLOAD_BYTES: '524288', WS_INBOUND_BYTES_PER_SEC: '262144' },
        'WS_INBOUND_BYTES_PER_SEC',
        /at least WS_MAX_PAYLOAD_BYTES/,
      ],
      ['REDIS_URL=http://x', { REDIS_URL: 'http://x' }, 'REDIS_URL', /redis:\/\/ or rediss:\/\//],
      ['REDIS_CLUSTER_NODES=bad', { REDIS_CLUSTER_NODES: 'bad' }, 'REDIS_CLUSTER_NODES', /host:port/],
      [
        'REDIS_URL and REDIS_CLUSTER_NODES both set',
        { REDIS_URL: 'redis://cache:6379', REDIS_CLUSTER_NODES: 'a:7000' },
        'REDIS_CLUSTER_NODES',
        /REDIS_URL are exclusive/,
      ],
      ['JWT_ALGORITHM=HS512', { JWT_ALGORITHM: 'HS512' }, 'JWT_ALGORITHM', /one of HS256, RS256, ES256/],
      ['JWT_ALGORITHM=none', { JWT_ALGORITHM: 'none' }, 'JWT_ALGORITHM', /one of HS256, RS256, ES256/],
      ['JWT_PUBLIC_KEY not PEM', { JWT_ALGORITHM: 'RS256', JWT_PUBLIC_KEY: 'not-a-key' }, 'JWT_PUBLIC_KEY', /PEM key/],
      ['RS256 without JWT_PUBLIC_KEY', { JWT_ALGORITHM: 'RS256' }, 'JWT_PUBLIC_KEY', /must be set when JWT_ALGORITHM is RS256/],
      [
        'JWT_PRIVATE_KEY not PEM',
        { JWT_ALGORITHM: 'ES256', JWT_PUBLIC_KEY: PUBLIC_KEY, JWT_PRIVATE_KEY: 'nope' },
        'JWT_PRIVATE_KEY',
        /PEM key/,
      ],
      ['JWT_EXPIRES_IN=forever', { JWT_EXPIRES_IN: 'forever' }, 'JWT_EXPIRES_IN', /duration/],
      ['JWT_EXPIRES_IN=30d', { JWT_EXPIRES_IN: '30d' }, 'JWT_EXPIRES_IN', /between 10s and 7d/],
      ['FRONTEND_URL with a path', { FRONTEND_URL: 'https://app.example.com/app' }, 'FRONTEND_URL', /absolute origins.*no path/],
      ['ALLOWED_ORIGINS with a path', { ALLOWED_ORIGINS: 'https://a.example.com,https://b.example.com/x' }, 'ALLOWED_ORIGINS', /no path/],
      ['ALLOWED_ORIGINS=*', { ALLOWED_ORIGINS: '*' }, 'ALLOWED_ORIGINS', /wildcard \(\*\) is refused/],
      ['FRONTEND_URL with a wildcard host', { FRONTEND_URL: 'https://*.example.com' }, 'FRONTEND_URL', /wildcard/],
      ['an origin without a scheme', { ALLOWED_ORIGINS: 'app.example.com' }, 'ALLOWED_ORIGINS', /absolute origins/],
      ['a non-http origin', { ALLOWED_ORIGINS: 'ftp://files.example.com' }, 'ALLOWED_ORIGINS', /absolute origins/],
      ['DATABASE_URL not PostgreSQL', { DATABASE_URL: 'mysql://db:3306/x' }, 'DATABASE_URL', /postgresql:\/\/ URL/],
      ['DATABASE_URL not a URL', { DATABASE_URL: 'localhost' }, 'DATABASE_URL', /postgresql:\/\/ URL/],
      ['NODE_ENV=staging', { NODE_ENV: 'staging' }, 'NODE_ENV', /one of development, production, test/],
      ['LOG_LEVEL=loud', { LOG_LEVEL: 'loud' }, 'LOG_LEVEL', /one of fatal, error/],
      ['SWAGGER_ENABLED=yes', { SWAGGER_ENABLED: 'yes' }, 'SWAGGER_ENABLED', /true or false/],
      ['SSE_TICKET_TTL_SEC=61', { SSE_TICKET_TTL_SEC: '61' }, 'SSE_TICKET_TTL_SEC', /from 1 to 60/],
      ['SSE_HEARTBEAT_MS=31000', { SSE_HEARTBEAT_MS: '31000' }, 'SSE_HEARTBEAT_MS', /from 100 to 30000/],
    ])('%s', (_case, env, variable, rule) => {
      const error = refusal(env);
      expect(error.variable).toBe(variable);
      expect(error.rule).toMatch(rule);
      expect(error.message).toBe(`Invalid configuration: ${variable} ${error.rule}`);
    });

    it('never echoes the offending value of a key', () => {
      const error = refusal({ JWT_ALGORITHM: 'RS256', JWT_PUBLIC_KEY: 'super-private-material' });
      expect(error.message).not.toContain('super-private-material');
    });
  });

  describe('production refusals', () => {
    it('accepts a complete production configuration', () => {
      const { config, warnings } = loadConfig(PRODUCTION);
      expect(config.isProduction).toBe(true);
      expect(config.jwt.generatedSecret).toBe(false);
      expect(config.jwt.verifyKey).toBe(GOOD_SECRET);
      expect(config.swaggerEnabled).toBe(false);
      expect(warnings).toEqual([]);
    });

    it('refuses to start without a JWT key', () => {
      const error = refusal({ ...PRODUCTION, JWT_SECRET: undefined });
      expect(error.variable).toBe('JWT_SECRET');
      expect(error.rule).toMatch(/must be set in production/);
    });

    it('refuses an HS256 secret shorter than 32 bytes, without echoing it', () => {
      const short = 'only-31-bytes-long-secret-value';
      expect(Buffer.byteLength(short)).toBe(31);
      const error = refusal({ ...PRODUCTION, JWT_SECRET: short });
      expect(error.variable).toBe('JWT_SECRET');
      expect(error.rule).toMatch(/at least 32 bytes/);
      expect(error.message).not.toContain(short);
    });

    it('counts the secret in bytes, not characters', () => {
      expect(loadConfig({ ...PRODUCTION, JWT_SECRET: 'x'.repeat(32) }).config.jwt.verifyKey).toHaveLength(32);
      // 16 characters, 32 bytes in UTF-8.
      expect(() => loadConfig({ ...PRODUCTION, JWT_SECRET: 'é'.repeat(16) })).not.toThrow();
    });

    it('refuses a * origin', () => {
      const error = refusal({ ...PRODUCTION, ALLOWED_ORIGINS: 'https://a.example.com,*' });
      expect(error.variable).toBe('ALLOWED_ORIGINS');
      expect(error.rule).toMatch(/wildcard/);
    });

    it.each([['app.example.com'], ['/relative'], ['https://app.example.com/path'], ['null']])('refuses the non-absolute origin %s', (origin) => {
      const error = refusal({ ...PRODUCTION, ALLOWED_ORIGINS: origin });
      expect(error.variable).toBe('ALLOWED_ORIGINS');
      expect(error.rule).toMatch(/absolute origins/);
    });

    it('refuses to start without DATABASE_URL', () => {
      const error = refusal({ ...PRODUCTION, DATABASE_URL: undefined });
      expect(error.variable).toBe('DATABASE_URL');
      expect(error.rule).toMatch(/must be set in production/);
    });

    it('refuses RS256/ES256 without a public key', () => {
      const error = refusal({ ...PRODUCTION, JWT_SECRET: undefined, JWT_ALGORITHM: 'RS256' });
      expect(error.variable).toBe('JWT_PUBLIC_KEY');
    });
  });

  describe('outside production', () => {
    it.each([['development'], ['test']])('%s: a missing JWT_SECRET becomes a random secret with a warning', (nodeEnv) => {
      const first = loadConfig({ NODE_ENV: nodeEnv });
      const second = loadConfig({ NODE_ENV: nodeEnv });
      expect(first.config.jwt.generatedSecret).toBe(true);
      expect(Buffer.byteLength(first.config.jwt.verifyKey ?? '')).toBeGreaterThanOrEqual(32);
      expect(first.config.jwt.signKey).toBe(first.config.jwt.verifyKey);
      expect(second.config.jwt.verifyKey).not.toBe(first.config.jwt.verifyKey);
      expect(first.warnings).toHaveLength(1);
      expect(first.warnings[0]).toMatch(/JWT_SECRET is not set: using a random secret/);
      expect(first.warnings[0]).not.toContain(first.config.jwt.verifyKey);
    });

    it('accepts a short HS256 secret with a warning that production refuses it', () => {
      const { config, warnings } = loadConfig({ JWT_SECRET: 'tiny-dev-secret' });
      expect(config.jwt.generatedSecret).toBe(false);
      expect(config.jwt.verifyKey).toBe('tiny-dev-secret');
      expect(warnings).toEqual([expect.stringMatching(/shorter than 32 bytes: refused in production/)]);
      expect(warnings.join('\n')).not.toContain('tiny-dev-secret');
    });

    it('runs without DATABASE_URL (embedded database)', () => {
      expect(loadConfig({ NODE_ENV: 'test' }).config.databaseUrl).toBeUndefined();
    });

    it('adds the dev-server origins only outside production', () => {
      const env = { FRONTEND_URL: 'https://app.example.com' };
      expect(loadConfig(env).config.allowedOrigins).toEqual(['https://app.example.com', ...DEV_ORIGINS]);
      expect(loadConfig({ ...env, NODE_ENV: 'test' }).config.allowedOrigins).toEqual(['https://app.example.com', ...DEV_ORIGINS]);
      expect(loadConfig({ ...PRODUCTION, ...env }).config.allowedOrigins).toEqual(['https://app.example.com']);
    });

    it('allows the server\'s own origin on whatever PORT it runs, outside production only', () => {
      expect(loadConfig({ PORT: '4711' }).config.allowedOrigins).toEqual(expect.arrayContaining(['http://localhost:4711', 'http://127.0.0.1:4711']));
      expect(loadConfig({ ...PRODUCTION, PORT: '4711' }).config.allowedOrigins).toEqual(['https://app.example.com']);
      expect(loadConfig({ PORT: '0' }).config.allowedOrigins.filter((o) => o.endsWith(':0'))).toEqual([]);
    });

    it('still refuses a * origin', () => {
      expect(refusal({ ALLOWED_ORIGINS: '*' }).variable).toBe('ALLOWED_ORIGINS');
    });
  });

  describe('user-state cache and session re-check', () => {
    it('defaults to a 10 s TTL, 100,000 users and a 60 s re-check', () => {
      expect(loadConfig({}).config.userState).toEqual({ cacheTtlMs: 10000, cacheMaxEntries: 100000, sweepIntervalMs: 60000 });
    });

    it('accepts 0 (no cache) and refuses values out of range, naming the variable', () => {
      expect(loadConfig({ USER_STATE_CACHE_TTL_MS: '0' }).config.userState.cacheTtlMs).toBe(0);
      expect(refusal({ USER_STATE_CACHE_TTL_MS: '300001' }).variable).toBe('USER_STATE_CACHE_TTL_MS');
      expect(refusal({ USER_STATE_CACHE_MAX_ENTRIES: '10' }).variable).toBe('USER_STATE_CACHE_MAX_ENTRIES');
      expect(refusal({ USER_STATE_SWEEP_INTERVAL_MS: '0' }).variable).toBe('USER_STATE_SWEEP_INTERVAL_MS');
    });
  });

  describe('key rotation, JWKS and lifetime', () => {
    const jwk = { ...generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' }), kid: 'rsa-1' };

    it('has no key sets, no JWKS and no lifetime bound by default', () => {
      expect(loadConfig({}).config.jwt).toMatchObject({ keyId: undefined, staticKeys: [], jwks: undefined, maxLifetimeSec: undefined });
    });

    it('reads JWT_SECRETS, JWT_PUBLIC_KEYS and JWT_JWKS_URL; a key set needs no primary key, even in production', () => {
      const { config } = loadConfig({
        ...PRODUCTION,
        JWT_SECRET: undefined,
        JWT_SECRETS: `a=${GOOD_SECRET},b=${GOOD_SECRET}x`,
        JWT_PUBLIC_KEYS: JSON.stringify({ keys: [jwk] }),
        JWT_JWKS_URL: 'https://idp.example.com/.well-known/jwks.json',
        JWT_MAX_LIFETIME: '1d',
      });
      expect(config.jwt.verifyKey).toBeNull();
      expect(config.jwt.signKey).toBeNull();
      expect(config.jwt.staticKeys.map((key) => [key.kid, key.algorithm])).toEqual([['a', 'HS256'], ['b', 'HS256'], ['rsa-1', 'RS256']]);
      expect(config.jwt.jwks).toEqual({ url: 'https://idp.example.com/.well-known/jwks.json', timeoutMs: 3000, maxBytes: 65536, refreshSec: 600, cooldownSec: 30 });
      expect(config.jwt.maxLifetimeSec).toBe(86400);
    });

    it.each<[string, Env, string, RegExp]>([
      ['a JWT_SECRETS entry without kid', { JWT_SECRETS: 'just-a-secret' }, 'JWT_SECRETS', /kid=secret/],
      ['a short JWT_SECRETS secret in production', { ...PRODUCTION, JWT_SECRETS: 'a=short' }, 'JWT_SECRETS', /at least 32 bytes/],
      ['a kid configured twice', { JWT_KEY_ID: 'a', JWT_SECRETS: `a=${GOOD_SECRET}` }, 'JWT_SECRETS', /twice/],
      ['JWT_PUBLIC_KEYS that is not JWKS', { JWT_PUBLIC_KEYS: '{"keys":3}' }, 'JWT_PUBLIC_KEYS', /JWKS document/],
      ['JWT_PUBLIC_KEYS with only a symmetric key', { JWT_PUBLIC_KEYS: '{"keys":[{"kty":"oct","kid":"x","k":"c2VjcmV0"}]}' }, 'JWT_PUBLIC_KEYS', /no usable/],
      ['JWT_PUBLIC_KEYS naming a missing file', { JWT_PUBLIC_KEYS: '/nonexistent/jwks.json' }, 'JWT_PUBLIC_KEYS', /readable JWKS file/],
      ['a plain-http JWKS URL in production', { ...PRODUCTION, JWT_JWKS_URL: 'http://idp.example.com/jwks' }, 'JWT_JWKS_URL', /https/],
      ['a JWKS URL that is not a URL', { JWT_JWKS_URL: 'idp/jwks' }, 'JWT_JWKS_URL', /URL/],
      ['JWT_EXPIRES_IN above JWT_MAX_LIFETIME', { JWT_EXPIRES_IN: '2h', JWT_MAX_LIFETIME: '1h' }, 'JWT_EXPIRES_IN', /JWT_MAX_LIFETIME/],
      ['a malformed JWT_MAX_LIFETIME', { JWT_MAX_LIFETIME: 'forever' }, 'JWT_MAX_LIFETIME', /duration/],
    ])('refuses %s', (_name, env, variable, rule) => {
      const error = refusal(env);
      expect(error.variable).toBe(variable);
      expect(error.rule).toMatch(rule);
      expect(error.message).not.toContain(GOOD_SECRET);
    });
  });
});
