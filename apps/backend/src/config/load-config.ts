import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { JwksDocumentError, KID_SHAPE, parseJwks } from './jwks-document.js';
import type { AppConfig, HttpBudgetsConfig, JwksConfig, JwtAlgorithm, JwtConfig, LogFormat, LogLevel, NodeEnv, RedisConfig, StaticVerificationKey } from './app-config.js';
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
  const port = integer(env, 'PORT', 4000, 0, 65535);
  const allowedOrigins = loadOrigins(env, isProduction, port);
  // Refused in production by the seed command, the only thing that uses it there.
  const seedPassword = optional(env, 'SEED_PASSWORD') ?? DEFAULT_SEED_PASSWORD;

  const config: AppConfig = {
    nodeEnv,
    isProduction,
    port,
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
      loginFailuresPerEmailGlobal: integer(env, 'LOGIN_RATE_LIMIT_PER_EMAIL_GLOBAL', 100, 1, 1000000),
    },
    delivery: {
      batchBodyBytes: integer(env, 'HTTP_BATCH_MAX_BODY_BYTES', 1048576, 1024, 16777216),
    },
    sse: {
      heartbeatMs: integer(env, 'SSE_HEARTBEAT_MS', 25000, 100, 30000),
      ticketTtlSec: integer(env, 'SSE_TICKET_TTL_SEC', 30, 1, 60),
      maxBufferedBytes: integer(env, 'SSE_MAX_BUFFERED_BYTES', 1048576, 1024, 67108864),
      maxTicketsPerUser: integer(env, 'SSE_MAX_TICKETS_PER_USER', 10, 1, 10000),
    },
    // --- Retention and bounded catch-up (issue 20) ---
    store: {
      retentionDays: integer(env, 'NOTIFICATION_RETENTION_DAYS', 90, 1, 36500),
      maxPerUser: integer(env, 'NOTIFICATION_MAX_PER_USER', 0, 0, 100000000),
      catchUpMax: integer(env, 'CATCH_UP_MAX', 1000, 1, 1000000),
      pruneIntervalSec: integer(env, 'NOTIFICATION_PRUNE_INTERVAL_SEC', 300, 1, 86400),
      pruneBatchSize: integer(env, 'NOTIFICATION_PRUNE_BATCH', 1000, 10, 100000),
    },
    httpBudgets: loadHttpBudgets(env),
    userState: {
      cacheTtlMs: integer(env, 'USER_STATE_CACHE_TTL_MS', 10000, 0, 300000),
      cacheMaxEntries: integer(env, 'USER_STATE_CACHE_MAX_ENTRIES', 100000, 100, 10000000),
      sweepIntervalMs: integer(env, 'USER_STATE_SWEEP_INTERVAL_MS', 60000, 100, 86400000),
    },
    abuse: {
      maxConnectAttempts: integer(env, 'WS_MAX_CONNECT_ATTEMPTS', 2, 1, 10),
      inboundFramesPerSec: integer(env, 'WS_INBOUND_FRAMES_PER_SEC', 100, 5, 100000),
      inboundBytesPerSec: integer(env, 'WS_INBOUND_BYTES_PER_SEC', 262144, 16384, 67108864),
      maxRefusals: integer(env, 'WS_MAX_REFUSALS', 50, 1, 100000),
      securityLogBurst: integer(env, 'SECURITY_LOG_BURST', 100, 1, 1000000),
      securityLogRatePerSec: integer(env, 'SECURITY_LOG_RATE_PER_SEC', 10, 1, 100000),
    },
    metrics: {
      token: optional(env, 'METRICS_TOKEN'),
      intervalMs: integer(env, 'METRICS_INTERVAL_MS', 60000, 100, 3600000),
    },
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 10000, 100, 120000),
    // Churn and rolling restarts (issue 21).
    drain: {
      reconnectRatePerSec: integer(env, 'SHUTDOWN_RECONNECT_RATE', 1000, 1, 1000000),
      rebalanceIntervalMs: integer(env, 'REBALANCE_INTERVAL_MS', 5000, 0, 3600000),
    },
    logLevel: oneOf<LogLevel>(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
    seedPassword,
    swaggerEnabled: boolean(env, 'SWAGGER_ENABLED', !isProduction),
    databaseSchema: schemaName(env, 'DATABASE_SCHEMA', 'public'),
    // Readable for a person in development; JSON wherever logs are collected.
    logFormat: oneOf<LogFormat>(env, 'LOG_FORMAT', ['json', 'pretty'], nodeEnv === 'development' ? 'pretty' : 'json'),
  };
  if (config.abuse.inboundBytesPerSec < config.ws.maxPayloadBytes) {
    throw new ConfigError('WS_INBOUND_BYTES_PER_SEC', 'must be at least WS_MAX_PAYLOAD_BYTES (one message of the largest size must fit)');
  }
  return { config, warnings };
}

/** REST and SSE request budgets (docs/SECURITY.md, REST and SSE abuse finding 5), per user per window. */
function loadHttpBudgets(env: Env): HttpBudgetsConfig {
  const budget = (name: string, fallback: number): number => integer(env, name, fallback, 1, 1000000);
  return {
    windowSec: integer(env, 'HTTP_RATE_LIMIT_WINDOW', 60, 1, 3600),
    create: budget('HTTP_RATE_LIMIT_CREATE', 60),
    read: budget('HTTP_RATE_LIMIT_READ', 600),
    mark: budget('HTTP_RATE_LIMIT_MARK', 300),
    readAll: budget('HTTP_RATE_LIMIT_READ_ALL', 30),
    streamTicket: budget('HTTP_RATE_LIMIT_STREAM_TICKET', 60),
    streamConnect: budget('HTTP_RATE_LIMIT_STREAM_CONNECT', 60),
    streamReplay: budget('HTTP_RATE_LIMIT_STREAM_REPLAY', 20),
  };
}

function loadJwt(env: Env, isProduction: boolean, warnings: string[]): JwtConfig {
  const algorithm = oneOf<JwtAlgorithm>(env, 'JWT_ALGORITHM', ['HS256', 'RS256', 'ES256'], 'HS256');
  const rotation = loadKeyRotation(env, isProduction);
  const common = {
    algorithm,
    issuer: optional(env, 'JWT_ISSUER'),
    audience: optional(env, 'JWT_AUDIENCE'),
    expiresInSec: duration(env, 'JWT_EXPIRES_IN', 15 * 60),
    clockToleranceSec: integer(env, 'JWT_CLOCK_TOLERANCE_SEC', 5, 0, 300),
    maxTokenLength: integer(env, 'JWT_MAX_LENGTH', 4096, 256, 65536),
    ...rotation,
  };
  if (common.maxLifetimeSec !== undefined && common.expiresInSec > common.maxLifetimeSec) {
    throw new ConfigError('JWT_EXPIRES_IN', 'must not exceed JWT_MAX_LIFETIME');
  }
  // Key sets or a JWKS URL can stand alone (an identity provider's keys): no primary key needed.
  const hasKeySets = rotation.staticKeys.length > 0 || rotation.jwks !== undefined;

  if (algorithm === 'HS256') {
    const secret = optional(env, 'JWT_SECRET');
    if (secret === undefined) {
      if (hasKeySets) return { ...common, verifyKey: null, signKey: null, generatedSecret: false };
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
    if (hasKeySets) return { ...common, verifyKey: null, signKey: null, generatedSecret: false };
    throw new ConfigError('JWT_PUBLIC_KEY', `must be set when JWT_ALGORITHM is ${algorithm}`);
  }
  return { ...common, verifyKey: publicKey, signKey: pem(env, 'JWT_PRIVATE_KEY') ?? null, generatedSecret: false };
}

// --- Key rotation, JWKS and lifetime ------------------------------------------------

type KeyRotationConfig = Pick<JwtConfig, 'keyId' | 'staticKeys' | 'jwks' | 'maxLifetimeSec'>;

function loadKeyRotation(env: Env, isProduction: boolean): KeyRotationConfig {
  const keyId = optional(env, 'JWT_KEY_ID');
  if (keyId !== undefined && !KID_SHAPE.test(keyId)) throw new ConfigError('JWT_KEY_ID', 'must be 1-256 printable ASCII characters');
  const staticKeys = [...secretSet(env, isProduction), ...publicKeySet(env)];
  const kids = [keyId, ...staticKeys.map((key) => key.kid)].filter((kid): kid is string => kid !== undefined);
  const duplicate = kids.find((kid, index) => kids.indexOf(kid) !== index);
  if (duplicate !== undefined) throw new ConfigError('JWT_SECRETS', `kid "${duplicate}" is configured twice (JWT_KEY_ID, JWT_SECRETS, JWT_PUBLIC_KEYS)`);
  const maxLifetime = optional(env, 'JWT_MAX_LIFETIME');
  return {
    keyId,
    staticKeys,
    jwks: jwksUrl(env, isProduction),
    maxLifetimeSec: maxLifetime === undefined ? undefined : duration(env, 'JWT_MAX_LIFETIME', 0),
  };
}

/** `kid=secret,kid=secret`: HS256 verification secrets (a secret holds no comma). */
function secretSet(env: Env, isProduction: boolean): StaticVerificationKey[] {
  const value = optional(env, 'JWT_SECRETS');
  if (value === undefined) return [];
  return value.split(',').map((entry) => {
    const at = entry.indexOf('=');
    const kid = entry.slice(0, at).trim();
    const secret = entry.slice(at + 1).trim();
    if (at <= 0 || !KID_SHAPE.test(kid) || secret === '') throw new ConfigError('JWT_SECRETS', 'must be a comma-separated list of kid=secret');
    if (isProduction && Buffer.byteLength(secret) < MIN_HS256_SECRET_BYTES) {
      throw new ConfigError('JWT_SECRETS', `secret of kid "${kid}" must be at least ${MIN_HS256_SECRET_BYTES} bytes in production`);
    }
    return { kid, algorithm: 'HS256', secret };
  });
}

/** A JWKS document, inline (starts with `{`) or the path of a file holding one. */
function publicKeySet(env: Env): StaticVerificationKey[] {
  const value = optional(env, 'JWT_PUBLIC_KEYS');
  if (value === undefined) return [];
  let text = value.trim();
  if (!text.startsWith('{')) {
    try {
      text = readFileSync(resolve(text), 'utf8');
    } catch {
      throw new ConfigError('JWT_PUBLIC_KEYS', 'must be a JWKS document or the path of a readable JWKS file');
    }
  }
  try {
    return parseJwks(text).keys.map(({ kid, algorithm, jwk }) => ({ kid, algorithm, jwk }));
  } catch (error) {
    if (error instanceof JwksDocumentError) throw new ConfigError('JWT_PUBLIC_KEYS', error.message);
    throw error;
  }
}

function jwksUrl(env: Env, isProduction: boolean): JwksConfig | undefined {
  const value = optional(env, 'JWT_JWKS_URL');
  const bounds = {
    timeoutMs: integer(env, 'JWT_JWKS_TIMEOUT_MS', 3000, 100, 60000),
    maxBytes: integer(env, 'JWT_JWKS_MAX_BYTES', 65536, 1024, 1048576),
    refreshSec: integer(env, 'JWT_JWKS_REFRESH_SEC', 600, 5, 86400),
    cooldownSec: integer(env, 'JWT_JWKS_COOLDOWN_SEC', 30, 1, 3600),
  };
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError('JWT_JWKS_URL', 'must be an absolute https:// URL');
  }
  // Keys fetched in clear text could be swapped on the way: plain http only off production.
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && !isProduction)) {
    throw new ConfigError('JWT_JWKS_URL', isProduction ? 'must be an https:// URL in production' : 'must be an http:// or https:// URL');
  }
  return { url: url.toString(), ...bounds };
}

function loadOrigins(env: Env, isProduction: boolean, port: number): string[] {
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
  // The server's own origin too, so the demo page works on whatever PORT it is served from.
  if (!isProduction) origins.push(...DEV_ORIGINS, ...(port > 0 ? [`http://localhost:${port}`, `http://127.0.0.1:${port}`] : []));
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

/** A plain PostgreSQL identifier: it is put in a search_path and schema-qualified names unquoted-safe. */
function schemaName(env: Env, name: string, fallback: string): string {
  const value = optional(env, name) ?? fallback;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(value)) throw new ConfigError(name, 'must be a PostgreSQL schema name: a-z, 0-9 and _, not starting with a digit');
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
