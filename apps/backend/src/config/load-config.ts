import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import type { AppConfig, JwtAlgorithm, JwtConfig, LogLevel, NodeEnv, RedisConfig } from './app-config.js';
import { ConfigError } from './config-error.js';

type Env = Record<string, string | undefined>;

/** Origins a developer's usual dev servers use; allowed only outside production. */
const DEV_ORIGINS = ['http://localhost:3000', 'http://localhost:4000', 'http://localhost:4200', 'http://localhost:5173'];
export const DEFAULT_SEED_PASSWORD = 'ChangeMe123!';
const MIN_HS256_SECRET_BYTES = 32;

export interface LoadedConfig {
  config: AppConfig;
  /** Things an operator should know at boot (e.g. a generated secret); never contain a secret. */
  warnings: string[];
}

/**
 * Validates the environment once, before anything starts. Throws ConfigError naming the
 * variable and the rule; production refuses defaults that are only safe on a laptop.
 */
export function loadConfig(env: Env): LoadedConfig {
  const warnings: string[] = [];
  const nodeEnv = oneOf<NodeEnv>(env, 'NODE_ENV', ['development', 'production', 'test'], 'development');
  const isProduction = nodeEnv === 'production';

  const databaseUrl = optional(env, 'DATABASE_URL');
  if (databaseUrl !== undefined) {
    postgresUrl('DATABASE_URL', databaseUrl);
  } else if (isProduction) {
    throw new ConfigError('DATABASE_URL', 'must be set in production (the embedded database is for development)');
  }

  const jwt = loadJwt(env, isProduction, warnings);
  const allowedOrigins = loadOrigins(env, isProduction);
  // Refused in production by the seed command, the only thing that uses it there.
  const seedPassword = optional(env, 'SEED_PASSWORD') ?? DEFAULT_SEED_PASSWORD;

  const config: AppConfig = {
    nodeEnv,
    isProduction,
    port: integer(env, 'PORT', 4000, 0, 65535),
    host: optional(env, 'HOST') ?? '0.0.0.0',
    trustProxyHops: integer(env, 'TRUST_PROXY', 0, 0, 10),
    databaseUrl,
    dataDir: resolve(optional(env, 'DATA_DIR') ?? '.data'),
    redis: loadRedis(env),
    redisKeyPrefix: keyPrefix(env, 'REDIS_KEY_PREFIX', 'ngw'),
    jwt,
    allowedOrigins,
    ws: {
      authTimeoutMs: integer(env, 'WS_AUTH_TIMEOUT_MS', 10000, 100, 60000),
      maxPayloadBytes: integer(env, 'WS_MAX_PAYLOAD_BYTES', 16384, 1024, 1048576),
      maxBufferedBytes: integer(env, 'WS_MAX_BUFFERED_BYTES', 1048576, 16384, 67108864),
      rateLimitPoints: integer(env, 'WS_RATE_LIMIT_POINTS', 20, 1, 100000),
      rateLimitDurationSec: integer(env, 'WS_RATE_LIMIT_DURATION', 60, 1, 86400),
    },
    limits: {
      maxConnections: integer(env, 'MAX_WEBSOCKET_CONNECTIONS', 20000, 1, 1000000),
      maxConnectionsPerUser: integer(env, 'MAX_CONNECTIONS_PER_USER', 10, 1, 10000),
      maxConnectionsPerIp: integer(env, 'MAX_CONNECTIONS_PER_IP', 100, 1, 1000000),
      connectRatePerIp: integer(env, 'CONNECT_RATE_PER_IP', 600, 1, 1000000),
      loginAttemptsPerIp: integer(env, 'LOGIN_RATE_LIMIT_PER_IP', 30, 1, 100000),
      loginAttemptsPerEmail: integer(env, 'LOGIN_RATE_LIMIT_PER_EMAIL', 10, 1, 100000),
      httpBodyBytes: integer(env, 'HTTP_MAX_BODY_BYTES', 65536, 1024, 10485760),
    },
    delivery: {
      batchBodyBytes: integer(env, 'HTTP_BATCH_MAX_BODY_BYTES', 1048576, 1024, 16777216),
    },
    sse: {
      heartbeatMs: integer(env, 'SSE_HEARTBEAT_MS', 25000, 100, 30000),
      ticketTtlSec: integer(env, 'SSE_TICKET_TTL_SEC', 30, 1, 60),
      maxBufferedBytes: integer(env, 'SSE_MAX_BUFFERED_BYTES', 1048576, 1024, 67108864),
    },
    metrics: {
      token: optional(env, 'METRICS_TOKEN'),
      intervalMs: integer(env, 'METRICS_INTERVAL_MS', 60000, 100, 3600000),
    },
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 10000, 100, 120000),
    logLevel: oneOf<LogLevel>(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
    seedPassword,
    swaggerEnabled: boolean(env, 'SWAGGER_ENABLED', !isProduction),
  };
  return { config, warnings };
}

function loadJwt(env: Env, isProduction: boolean, warnings: string[]): JwtConfig {
  const algorithm = oneOf<JwtAlgorithm>(env, 'JWT_ALGORITHM', ['HS256', 'RS256', 'ES256'], 'HS256');
  const common = {
    algorithm,
    issuer: optional(env, 'JWT_ISSUER'),
    audience: optional(env, 'JWT_AUDIENCE'),
    expiresInSec: duration(env, 'JWT_EXPIRES_IN', 15 * 60),
    clockToleranceSec: integer(env, 'JWT_CLOCK_TOLERANCE_SEC', 5, 0, 300),
    maxTokenLength: integer(env, 'JWT_MAX_LENGTH', 4096, 256, 65536),
  };

  if (algorithm === 'HS256') {
    const secret = optional(env, 'JWT_SECRET');
    if (secret === undefined) {
      if (isProduction) throw new ConfigError('JWT_SECRET', 'must be set in production (or JWT_PUBLIC_KEY with JWT_ALGORITHM)');
      warnings.push('JWT_SECRET is not set: using a random secret for this process; tokens will not survive a restart');
      const generated = randomBytes(48).toString('base64url');
      return { ...common, verifyKey: generated, signKey: generated, generatedSecret: true };
    }
    if (Buffer.byteLength(secret) < MIN_HS256_SECRET_BYTES) {
      if (isProduction) throw new ConfigError('JWT_SECRET', `must be at least ${MIN_HS256_SECRET_BYTES} bytes in production`);
      warnings.push(`JWT_SECRET is shorter than ${MIN_HS256_SECRET_BYTES} bytes: refused in production`);
    }
    return { ...common, verifyKey: secret, signKey: secret, generatedSecret: false };
  }

  const publicKey = pem(env, 'JWT_PUBLIC_KEY');
  if (publicKey === undefined) {
    throw new ConfigError('JWT_PUBLIC_KEY', `must be set when JWT_ALGORITHM is ${algorithm}`);
  }
  return { ...common, verifyKey: publicKey, signKey: pem(env, 'JWT_PRIVATE_KEY') ?? null, generatedSecret: false };
}

function loadOrigins(env: Env, isProduction: boolean): string[] {
  const listed = [optional(env, 'FRONTEND_URL'), ...(optional(env, 'ALLOWED_ORIGINS') ?? '').split(',')]
    .map((o) => o?.trim())
    .filter((o): o is string => !!o);
  for (const origin of listed) {
    const variable = origin === optional(env, 'FRONTEND_URL')?.trim() ? 'FRONTEND_URL' : 'ALLOWED_ORIGINS';
    if (origin.includes('*')) throw new ConfigError(variable, 'must list exact origins; a wildcard (*) is refused');
    if (!isAbsoluteOrigin(origin)) {
      throw new ConfigError(variable, `must hold absolute origins like https://app.example.com (scheme://host[:port], no path)`);
    }
  }
  const origins = listed.map((o) => new URL(o).origin);
  if (!isProduction) origins.push(...DEV_ORIGINS);
  return [...new Set(origins)];
}

function isAbsoluteOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value.replace(/\/$/, '');
  } catch {
    return false;
  }
}

function loadRedis(env: Env): RedisConfig {
  const url = optional(env, 'REDIS_URL');
  const clusterNodes = optional(env, 'REDIS_CLUSTER_NODES');
  if (url !== undefined && clusterNodes !== undefined) {
    throw new ConfigError('REDIS_CLUSTER_NODES', 'and REDIS_URL are exclusive; set one');
  }
  if (clusterNodes !== undefined) {
    const nodes = clusterNodes.split(',').map((entry) => {
      const match = /^\s*([^\s:]+):(\d{1,5})\s*$/.exec(entry);
      if (!match) throw new ConfigError('REDIS_CLUSTER_NODES', 'must be a comma-separated list of host:port');
      return { host: match[1], port: Number(match[2]) };
    });
    return { mode: 'cluster', nodes };
  }
  if (url !== undefined) {
    if (!/^rediss?:\/\/[^\s]+$/.test(url)) throw new ConfigError('REDIS_URL', 'must be a redis:// or rediss:// URL');
    return { mode: 'single', url };
  }
  return { mode: 'none' };
}

function keyPrefix(env: Env, name: string, fallback: string): string {
  const value = optional(env, name) ?? fallback;
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(value)) throw new ConfigError(name, 'must be 1-64 characters of A-Z a-z 0-9 _ . -');
  return value;
}

function optional(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const value = optional(env, name);
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = optional(env, name);
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value.trim())) throw new ConfigError(name, `must be a whole number from ${min} to ${max}`);
  const parsed = Number(value);
  if (parsed < min || parsed > max) throw new ConfigError(name, `must be a whole number from ${min} to ${max}`);
  return parsed;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const value = optional(env, name);
  if (value === undefined) return fallback;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new ConfigError(name, 'must be true or false');
}

/** `900`, `900s`, `15m`, `1h`, `1d` → seconds. */
function duration(env: Env, name: string, fallback: number): number {
  const value = optional(env, name);
  if (value === undefined) return fallback;
  const match = /^(\d+)\s*([smhd]?)$/.exec(value.trim());
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 } as const;
  if (!match) throw new ConfigError(name, 'must be a duration like 900, 15m, 1h');
  const seconds = Number(match[1]) * unit[match[2] as keyof typeof unit];
  if (seconds < 10 || seconds > 7 * 86400) throw new ConfigError(name, 'must be between 10s and 7d');
  return seconds;
}

function pem(env: Env, name: string): string | undefined {
  const value = optional(env, name);
  if (value === undefined) return undefined;
  // .env files and container secrets often carry PEM newlines escaped.
  const key = value.replace(/\\n/g, '\n');
  if (!/-----BEGIN [A-Z ]+-----/.test(key)) throw new ConfigError(name, 'must be a PEM key');
  return key;
}

function postgresUrl(name: string, value: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(name, 'must be a postgresql:// URL');
  }
  if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:') {
    throw new ConfigError(name, 'must be a postgresql:// URL');
  }
}
