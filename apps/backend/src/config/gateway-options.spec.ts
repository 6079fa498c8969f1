import { ConfigError } from './config-error.js';
import { configFromOptions, type NotificationGatewayConfig } from './gateway-options.js';
import { loadConfig } from './load-config.js';

const SECRET = 'unit-test-secret-0123456789abcdef0123456789abcdef';
const BASE: NotificationGatewayConfig = { nodeEnv: 'test', databaseUrl: 'postgresql://db.internal:5432/app', jwtSecret: SECRET };

function refusal(options: NotificationGatewayConfig): ConfigError {
  try {
    configFromOptions(options);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`configFromOptions accepted ${JSON.stringify(options)}`);
}

describe('configFromOptions: a host\'s options go through the environment schema', () => {
  it('gives the config the same variables give', () => {
    const options: NotificationGatewayConfig = {
      ...BASE,
      databaseSchema: 'notify_gateway',
      allowedOrigins: ['https://a.example.com', 'https://b.example.com'],
      wsAuthTimeoutMs: 5000,
      jwtExpiresIn: '1h',
      redisUrl: 'redis://cache:6379',
    };
    const fromEnv = loadConfig({
      NODE_ENV: 'test',
      DATABASE_URL: BASE.databaseUrl,
      JWT_SECRET: SECRET,
      DATABASE_SCHEMA: 'notify_gateway',
      ALLOWED_ORIGINS: 'https://a.example.com,https://b.example.com',
      WS_AUTH_TIMEOUT_MS: '5000',
      JWT_EXPIRES_IN: '1h',
      REDIS_URL: 'redis://cache:6379',
    }).config;
    expect(configFromOptions(options).config).toEqual(fromEnv);
  });

  it('refuses with the schema\'s rule, naming the option and its variable', () => {
    const bad = refusal({ ...BASE, wsAuthTimeoutMs: 5 });
    const sameFromEnv = (() => {
      try {
        loadConfig({ WS_AUTH_TIMEOUT_MS: '5' });
      } catch (error) {
        return error as ConfigError;
      }
      throw new Error('accepted');
    })();
    expect(bad.variable).toBe('wsAuthTimeoutMs (WS_AUTH_TIMEOUT_MS)');
    expect(bad.rule).toBe(sameFromEnv.rule);
    expect(refusal({ ...BASE, allowedOrigins: ['*'] }).message).toBe('Invalid configuration: allowedOrigins (ALLOWED_ORIGINS) must list exact origins; a wildcard (*) is refused');
    expect(refusal({ ...BASE, databaseSchema: 'Bad-Schema' }).variable).toBe('databaseSchema (DATABASE_SCHEMA)');
  });

  it('applies the production refusals', () => {
    expect(refusal({ nodeEnv: 'production', databaseUrl: BASE.databaseUrl, jwtSecret: 'short' }).message).toMatch(/jwtSecret \(JWT_SECRET\) must be at least 32 bytes/);
    expect(refusal({ nodeEnv: 'production', databaseUrl: BASE.databaseUrl }).variable).toBe('JWT_SECRET');
  });

  it('needs a database URL: a module has no embedded database', () => {
    expect(refusal({ nodeEnv: 'test', databaseUrl: '' }).variable).toBe('databaseUrl (DATABASE_URL)');
  });

  it('passes further variables through `env`, and reads nothing from process.env', () => {
    process.env.WS_RATE_LIMIT_POINTS = '999';
    try {
      expect(configFromOptions(BASE).config.ws.rateLimitPoints).toBe(20);
      expect(configFromOptions({ ...BASE, env: { WS_RATE_LIMIT_POINTS: '7' } }).config.ws.rateLimitPoints).toBe(7);
      expect(refusal({ ...BASE, env: { WS_RATE_LIMIT_POINTS: 'x' } }).variable).toBe('WS_RATE_LIMIT_POINTS');
    } finally {
      delete process.env.WS_RATE_LIMIT_POINTS;
    }
  });
});
