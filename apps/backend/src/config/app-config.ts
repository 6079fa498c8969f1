/** The validated configuration. Nothing else in the app reads process.env. */
export type NodeEnv = 'development' | 'production' | 'test';
export type JwtAlgorithm = 'HS256' | 'RS256' | 'ES256';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export type RedisConfig =
  | { mode: 'none' }
  | { mode: 'single'; url: string }
  | { mode: 'cluster'; nodes: { host: string; port: number }[] };

export interface JwtConfig {
  algorithm: JwtAlgorithm;
  /** Key used to verify: the HS256 secret or the PEM public key. */
  verifyKey: string;
  /** Key used to sign login tokens: the HS256 secret or JWT_PRIVATE_KEY; null disables /auth/login. */
  signKey: string | null;
  issuer?: string;
  audience?: string;
  /** Lifetime of login tokens, in seconds. */
  expiresInSec: number;
  /** True when no key was configured and a random secret was generated (never in production). */
  generatedSecret: boolean;
  /** Accepted clock skew, seconds. */
  clockToleranceSec: number;
  /** Longest token accepted, in characters. */
  maxTokenLength: number;
}

export interface AppConfig {
  nodeEnv: NodeEnv;
  isProduction: boolean;
  port: number;
  host: string;
  /** Proxies in front of the app whose X-Forwarded-For is believed (0: none). */
  trustProxyHops: number;
  /** Unset: the embedded PGlite database under `dataDir`. */
  databaseUrl?: string;
  dataDir: string;
  redis: RedisConfig;
  /** Prefix of every Redis key and pub/sub channel, so environments can share a Redis. */
  redisKeyPrefix: string;
  jwt: JwtConfig;
  /** Exact origins allowed on every transport. */
  allowedOrigins: string[];
  ws: {
    authTimeoutMs: number;
    maxPayloadBytes: number;
    /** Bytes a socket may have queued (unread by its client) before it is cut off. */
    maxBufferedBytes: number;
    rateLimitPoints: number;
    rateLimitDurationSec: number;
  };
  limits: {
    maxConnections: number;
    maxConnectionsPerUser: number;
    maxConnectionsPerIp: number;
    /** New connections per IP per minute. */
    connectRatePerIp: number;
    loginAttemptsPerIp: number;
    loginAttemptsPerEmail: number;
    httpBodyBytes: number;
  };
  /** Delivery streams and bulk publishing (docs/DELIVERY.md). */
  delivery: {
    /** Largest JSON body of POST /notifications/batch (the other routes keep httpBodyBytes). */
    batchBodyBytes: number;
  };
  sse: {
    heartbeatMs: number;
    ticketTtlSec: number;
    /** Bytes a stream may have queued before it is cut off. */
    maxBufferedBytes: number;
  };
  metrics: {
    token?: string;
    intervalMs: number;
  };
  shutdownTimeoutMs: number;
  logLevel: LogLevel;
  seedPassword: string;
  swaggerEnabled: boolean;
}
