import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/app-config.js';

/**
 * The one origin policy for HTTP CORS, SSE, socket.io polling and the websocket upgrade.
 * Exact string match against the allowlist; requests without an Origin header (server-to-server,
 * curl, health probes) are allowed because browsers always send one cross-origin.
 */
@Injectable()
export class OriginPolicy {
  private readonly allowed: ReadonlySet<string>;

  constructor(config: ConfigService<AppConfig, true>) {
    this.allowed = new Set(config.get('allowedOrigins', { infer: true }));
  }

  isAllowed(origin: string | string[] | undefined): boolean {
    if (origin === undefined) return true;
    // Two Origin headers (or Node joining them with ", ") never match one allowed origin.
    if (typeof origin !== 'string') return false;
    return this.allowed.has(origin);
  }
}
