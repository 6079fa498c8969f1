/** The validated configuration. Nothing else in the app reads process.env. */
export type NodeEnv = 'development' | 'production' | 'test';
export type JwtAlgorithm = 'HS256' | 'RS256' | 'ES256';
export type LogFormat = 'json' | 'pretty';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export type RedisConfig =
  | { mode: 'none' }
  | { mode: 'single'; url: string }
  | { mode: 'cluster'; nodes: { host: string; port: number }[] };

export interface JwtConfig {
  algorithm: JwtAlgorithm;
  /**
   * The primary key (JWT_SECRET or JWT_PUBLIC_KEY, verified with JWT_ALGORITHM): the HS256
   * secret or the PEM public key; null when only key sets (JWT_SECRETS, JWT_PUBLIC_KEYS,
   * JWT_JWKS_URL) are configured.
   */
  verifyKey: string | null;
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
  // --- Key rotation, JWKS and lifetime ---
  /** JWT_KEY_ID: the primary key's `kid`, also written on login tokens. */
  keyId?: string;
  /** Further verification keys with their `kid`, from JWT_SECRETS and JWT_PUBLIC_KEYS. */
  staticKeys: StaticVerificationKey[];
  /** JWT_JWKS_URL and its fetch bounds; unset: no remote key set. */
  jwks?: JwksConfig;
  /** JWT_MAX_LIFETIME: longest accepted exp − iat (exp − now without iat), seconds. */
  maxLifetimeSec?: number;
}

/** One key of a static set; the algorithm is the key's own, never the token's. */
export type StaticVerificationKey =
  | { kid: string; algorithm: 'HS256'; secret: string }
  | { kid: string; algorithm: 'RS256' | 'ES256'; jwk: JsonWebKeyInput };

/** A public JWK as published in a JWKS document (the fields node:crypto imports). */
export interface JsonWebKeyInput {
  kty: string;
  kid?: string;
  alg?: string;
  use?: string;
  [field: string]: unknown;
}

export interface JwksConfig {
  url: string;
  /** Timeout of one fetch, ms. */
  timeoutMs: number;
  /** Largest JWKS response accepted, bytes. */
  maxBytes: number;
  /** Periodic refresh interval, seconds. */
  refreshSec: number;
  /** An unknown kid refetches at most once per this many seconds. */
  cooldownSec: number;
}

export interface HttpBudgetsConfig {
  windowSec: number;
  /** POST /notifications. */
  create: number;
  /** GET /notifications (list and sync by cursor), GET /notifications/unread-count. */
  read: number;
  /** PATCH /notifications/:id/read. */
  mark: number;
  /** POST /notifications/read-all. */
  readAll: number;
  /** POST /notifications/stream-ticket. */
  streamTicket: number;
  /** GET /notifications/stream. */
  streamConnect: number;
  /** GET /notifications/stream with a Last-Event-ID (a replay from the database). */
  streamReplay: number;
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
    /** Failed logins per (IP, email): the lock an attacker can only put on its own IP. */
    loginAttemptsPerEmail: number;
    httpBodyBytes: number;
    /** Failed logins per email from every IP, per hour: the slower global back-off. */
    loginFailuresPerEmailGlobal: number;
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
    /** Unused tickets one user may hold in the in-memory store (no Redis). */
    maxTicketsPerUser: number;
  };
  // --- Retention and bounded catch-up (issue 20; docs/OPERATIONS.md) ---
  store: {
    /** NOTIFICATION_RETENTION_DAYS: notifications older than this are pruned. */
    retentionDays: number;
    /** NOTIFICATION_MAX_PER_USER: most notifications kept per user stream (oldest pruned first); 0: no cap. */
    maxPerUser: number;
    /** CATCH_UP_MAX: a reader further behind than this in a stream is told to reset, not replayed. */
    catchUpMax: number;
    /** NOTIFICATION_PRUNE_INTERVAL_SEC: pause between prune runs. */
    pruneIntervalSec: number;
    /** NOTIFICATION_PRUNE_BATCH: rows deleted per statement (one short transaction each). */
    pruneBatchSize: number;
  };
  /** Per-user request budgets of the REST and SSE routes, each per `windowSec`, cluster-wide with Redis. */
  httpBudgets: HttpBudgetsConfig;
  /** The user-state cache behind handshakes and requests, and the re-check of live sessions. */
  userState: {
    /** How long a user's {tenantId, role, isActive} is reused without reading PostgreSQL; 0: never. */
    cacheTtlMs: number;
    /** Most users held; the least recently used go first. */
    cacheMaxEntries: number;
    /** Interval of the re-check of this instance's sessions against PostgreSQL. */
    sweepIntervalMs: number;
  };
  /** Abuse bounds per engine connection and socket, and the security log's sampling. */
  abuse: {
    /** Namespace CONNECT packets one engine connection may send before it is closed. */
    maxConnectAttempts: number;
    /** Inbound engine packets (any type) per connection per second before it is closed. */
    inboundFramesPerSec: number;
    /** Inbound payload bytes per connection per second before it is closed. */
    inboundBytesPerSec: number;
    /** Refused events (rate-limited or forbidden) one socket may send before its session ends. */
    maxRefusals: number;
    /** Security log lines per (event, peer, principal) in a burst; beyond it, sampled. */
    securityLogBurst: number;
    /** Lines per second that key regains after the burst. */
    securityLogRatePerSec: number;
  };
  metrics: {
    token?: string;
    intervalMs: number;
  };
  shutdownTimeoutMs: number;
  /** Churn and rolling restarts (issue 21). */
  drain: {
    /** Reconnects per second a draining instance asks its clients to spread over (SHUTDOWN_RECONNECT_RATE). */
    reconnectRatePerSec: number;
    /** How often an instance compares its sockets with the others' and sheds its excess; 0: never (REBALANCE_INTERVAL_MS). */
    rebalanceIntervalMs: number;
  };
  logLevel: LogLevel;
  seedPassword: string;
  swaggerEnabled: boolean;
  /** PostgreSQL schema of the gateway's tables, so they sit apart from a host's own (DATABASE_SCHEMA). */
  databaseSchema: string;
  /** `pretty` (one readable line per entry) or `json` (one object a line); LOG_FORMAT. */
  logFormat: LogFormat;
}
