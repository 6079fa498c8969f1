import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig, JwksConfig } from '../config/app-config.js';
import { ConfigError } from '../config/config-error.js';
import { MetricsService } from '../observability/metrics.service.js';
import { parseJwks, type JwkVerificationKey } from '../config/jwks-document.js';

/**
 * The identity provider's keys from JWT_JWKS_URL: fetched with a timeout and a size bound,
 * cached, refreshed periodically and on an unknown kid (at most once per cooldown). At boot a
 * failure stops the app; afterwards a failure keeps the last good set, counted and logged.
 */
@Injectable()
export class JwksKeySource implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(JwksKeySource.name);
  private readonly options: JwksConfig | undefined;
  private keys = new Map<string, JwkVerificationKey>();
  private lastFetchAt = 0;
  private inflight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly metrics: MetricsService,
    config: ConfigService<AppConfig, true>,
  ) {
    this.options = config.get('jwt', { infer: true }).jwks;
  }

  get enabled(): boolean {
    return this.options !== undefined;
  }

  get size(): number {
    return this.keys.size;
  }

  /** The set's key when it holds exactly one. */
  onlyKey(): JwkVerificationKey | undefined {
    return this.keys.size === 1 ? (this.keys.values().next().value as JwkVerificationKey) : undefined;
  }

  async onModuleInit(): Promise<void> {
    const options = this.options;
    if (!options) return;
    try {
      await this.refresh();
    } catch (error) {
      throw new ConfigError('JWT_JWKS_URL', `could not be loaded at boot: ${describe(error)}`);
    }
    this.timer = setInterval(() => void this.refreshKeepingLastGood('periodic'), options.refreshSec * 1000);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** The key of `kid` in the set held now, without fetching. */
  current(kid: string): JwkVerificationKey | undefined {
    return this.keys.get(kid);
  }

  /** The key of `kid`; an unknown kid refetches the set unless that was done within the cooldown. */
  async find(kid: string): Promise<JwkVerificationKey | undefined> {
    const options = this.options;
    if (!options) return undefined;
    const known = this.keys.get(kid);
    if (known) return known;
    if (this.inflight) {
      await this.inflight;
    } else if (Date.now() - this.lastFetchAt >= options.cooldownSec * 1000) {
      await this.refreshKeepingLastGood('unknown kid');
    }
    return this.keys.get(kid);
  }

  private async refreshKeepingLastGood(trigger: string): Promise<void> {
    try {
      await this.refresh();
    } catch (error) {
      this.metrics.jwksRefreshFailures.inc();
      this.logger.warn({ trigger, reason: describe(error), keys: this.keys.size }, 'JWKS refresh failed; keeping the last good key set');
    }
  }

  /** One fetch at a time; concurrent callers share it. */
  private refresh(): Promise<void> {
    this.inflight ??= this.fetchAndSwap().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async fetchAndSwap(): Promise<void> {
    const options = this.options as JwksConfig;
    this.lastFetchAt = Date.now();
    const parsed = parseJwks(await fetchBounded(options));
    this.keys = new Map(parsed.keys.map((key) => [key.kid, key]));
    this.metrics.jwksKeys.set(this.keys.size);
    if (parsed.skipped.length > 0) this.logger.warn({ skipped: parsed.skipped }, 'JWKS keys left out');
  }
}

/** GET the document: no redirects, bounded in time and bytes (the body is read in chunks). */
async function fetchBounded(options: JwksConfig): Promise<string> {
  const response = await fetch(options.url, {
    headers: { accept: 'application/jwk-set+json, application/json' },
    redirect: 'error',
    signal: AbortSignal.timeout(options.timeoutMs),
  });
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new Error(`answered HTTP ${response.status}`);
  }
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > options.maxBytes) {
    await response.body?.cancel();
    throw new Error(`larger than JWT_JWKS_MAX_BYTES (${options.maxBytes})`);
  }
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  const reader = response.body?.getReader();
  if (!reader) throw new Error('sent no body');
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (bytes > options.maxBytes) {
      await reader.cancel();
      throw new Error(`larger than JWT_JWKS_MAX_BYTES (${options.maxBytes})`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function describe(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return 'timed out';
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return error instanceof Error ? `${error.message}${cause}` : String(error);
}
