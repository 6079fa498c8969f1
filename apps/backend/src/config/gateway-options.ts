import type { JwtAlgorithm, LogFormat, LogLevel, NodeEnv } from './app-config.js';
import { ConfigError } from './config-error.js';
import { loadConfig, type LoadedConfig } from './load-config.js';

/**
 * The gateway's settings when a host passes them in code (NotificationGatewayModule.forRoot).
 * Each is the environment variable named in OPTION_VARIABLES, with the same default and rule.
 */
export interface NotificationGatewayConfig {
  /** Required: production refuses the unsafe defaults, as NODE_ENV does for the standalone app. */
  nodeEnv: NodeEnv;
  /** Required: a module has no embedded database. */
  databaseUrl: string;
  databaseSchema?: string;
  redisUrl?: string;
  redisClusterNodes?: string;
  redisKeyPrefix?: string;
  jwtAlgorithm?: JwtAlgorithm;
  jwtSecret?: string;
  jwtPublicKey?: string;
  jwtPrivateKey?: string;
  jwtIssuer?: string;
  jwtAudience?: string;
  jwtExpiresIn?: string | number;
  jwtClockToleranceSec?: number;
  jwtMaxLength?: number;
  frontendUrl?: string;
  allowedOrigins?: readonly string[];
  wsAuthTimeoutMs?: number;
  wsMaxPayloadBytes?: number;
  wsMaxBufferedBytes?: number;
  wsRateLimitPoints?: number;
  wsRateLimitDuration?: number;
  maxWebsocketConnections?: number;
  maxConnectionsPerUser?: number;
  maxConnectionsPerIp?: number;
  connectRatePerIp?: number;
  loginRateLimitPerIp?: number;
  loginRateLimitPerEmail?: number;
  httpMaxBodyBytes?: number;
  sseHeartbeatMs?: number;
  sseTicketTtlSec?: number;
  sseMaxBufferedBytes?: number;
  metricsToken?: string;
  metricsIntervalMs?: number;
  logLevel?: LogLevel;
  logFormat?: LogFormat;
  trustProxy?: number;
  shutdownTimeoutMs?: number;
  /** Any other variable of the environment schema by its name (README, Configuration). */
  env?: Readonly<Record<string, string | undefined>>;
}

type OptionName = Exclude<keyof NotificationGatewayConfig, 'env'>;

/** Option → environment variable. Typed as complete, so an option cannot lack its rule. */
export const OPTION_VARIABLES: Readonly<Record<OptionName, string>> = {
  nodeEnv: 'NODE_ENV',
  databaseUrl: 'DATABASE_URL',
  databaseSchema: 'DATABASE_SCHEMA',
  redisUrl: 'REDIS_URL',
  redisClusterNodes: 'REDIS_CLUSTER_NODES',
  redisKeyPrefix: 'REDIS_KEY_PREFIX',
  jwtAlgorithm: 'JWT_ALGORITHM',
  jwtSecret: 'JWT_SECRET',
  jwtPublicKey: 'JWT_PUBLIC_KEY',
  jwtPrivateKey: 'JWT_PRIVATE_KEY',
  jwtIssuer: 'JWT_ISSUER',
  jwtAudience: 'JWT_AUDIENCE',
  jwtExpiresIn: 'JWT_EXPIRES_IN',
  jwtClockToleranceSec: 'JWT_CLOCK_TOLERANCE_SEC',
  jwtMaxLength: 'JWT_MAX_LENGTH',
  frontendUrl: 'FRONTEND_URL',
  allowedOrigins: 'ALLOWED_ORIGINS',
  wsAuthTimeoutMs: 'WS_AUTH_TIMEOUT_MS',
  wsMaxPayloadBytes: 'WS_MAX_PAYLOAD_BYTES',
  wsMaxBufferedBytes: 'WS_MAX_BUFFERED_BYTES',
  wsRateLimitPoints: 'WS_RATE_LIMIT_POINTS',
  wsRateLimitDuration: 'WS_RATE_LIMIT_DURATION',
  maxWebsocketConnections: 'MAX_WEBSOCKET_CONNECTIONS',
  maxConnectionsPerUser: 'MAX_CONNECTIONS_PER_USER',
  maxConnectionsPerIp: 'MAX_CONNECTIONS_PER_IP',
  connectRatePerIp: 'CONNECT_RATE_PER_IP',
  loginRateLimitPerIp: 'LOGIN_RATE_LIMIT_PER_IP',
  loginRateLimitPerEmail: 'LOGIN_RATE_LIMIT_PER_EMAIL',
  httpMaxBodyBytes: 'HTTP_MAX_BODY_BYTES',
  sseHeartbeatMs: 'SSE_HEARTBEAT_MS',
  sseTicketTtlSec: 'SSE_TICKET_TTL_SEC',
  sseMaxBufferedBytes: 'SSE_MAX_BUFFERED_BYTES',
  metricsToken: 'METRICS_TOKEN',
  metricsIntervalMs: 'METRICS_INTERVAL_MS',
  logLevel: 'LOG_LEVEL',
  logFormat: 'LOG_FORMAT',
  trustProxy: 'TRUST_PROXY',
  shutdownTimeoutMs: 'SHUTDOWN_TIMEOUT_MS',
};

/**
 * Validates a host's options with the environment schema itself (loadConfig), so both paths share
 * every rule and message; a refusal names the option and its variable. Reads no process.env.
 */
export function configFromOptions(options: NotificationGatewayConfig): LoadedConfig {
  const env: Record<string, string | undefined> = { ...options.env };
  const variableToOption = new Map<string, string>();
  for (const [option, variable] of Object.entries(OPTION_VARIABLES) as [OptionName, string][]) {
    const value = options[option];
    variableToOption.set(variable, option);
    if (value === undefined || value === null) continue;
    env[variable] = Array.isArray(value) ? value.join(',') : String(value);
  }
  let loaded: LoadedConfig;
  try {
    loaded = loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const option = variableToOption.get(error.variable);
    throw option && options[option as OptionName] !== undefined ? new ConfigError(`${option} (${error.variable})`, error.rule) : error;
  }
  if (!loaded.config.databaseUrl) {
    throw new ConfigError('databaseUrl (DATABASE_URL)', 'must be set: the embedded database is only for the standalone app');
  }
  return loaded;
}
