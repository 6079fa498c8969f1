import { BeforeApplicationShutdown, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { HttpAdapterHost } from '@nestjs/core';
import type { Server } from 'node:http';
import type { AppConfig } from '../../config/app-config.js';

const IDLE_SWEEP_MS = 50;

/**
 * Lets the HTTP server close promptly on shutdown: a keep-alive connection between two requests
 * would hold `server.close()` open until it timed out. Idle connections are closed as they become
 * idle, so in-flight requests still complete; past half the shutdown budget, the rest are cut.
 */
@Injectable()
export class HttpDrain implements BeforeApplicationShutdown, OnApplicationShutdown {
  private sweep?: NodeJS.Timeout;
  private cut?: NodeJS.Timeout;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly config: ConfigService<AppConfig, true>,
  ) {}

  beforeApplicationShutdown(): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server) return;
    server.closeIdleConnections();
    this.sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS).unref();
    this.cut = setTimeout(() => server.closeAllConnections(), this.config.get('shutdownTimeoutMs', { infer: true }) / 2).unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweep);
    clearTimeout(this.cut);
  }
}
