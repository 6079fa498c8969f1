import { BeforeApplicationShutdown, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AppConfig } from '../../config/app-config.js';

const IDLE_SWEEP_MS = 50;

/**
 * Lets the HTTP server close promptly on shutdown: a keep-alive connection between two requests
 * would hold `server.close()` open until it timed out. Idle connections are closed as they become
 * idle, so in-flight requests still complete; past half the shutdown budget, the rest are cut.
 *
 * Every response still to be written once the drain starts says `Connection: close`, and its
 * connection closes after it: a client (a publisher's keep-alive pool) then opens a fresh
 * connection for its next request, instead of sending it on one the sweep is about to close,
 * which it would see fail as a socket closed mid-request. Node does not do this itself: after
 * `server.close()` a response already in flight still says `Connection: keep-alive` (checked on Node 20),
 * hence the set of responses in flight.
 */
@Injectable()
export class HttpDrain implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private sweep?: NodeJS.Timeout;
  private cut?: NodeJS.Timeout;
  private draining = false;
  /** Responses not finished yet: the drain turns their keep-alive off. */
  private readonly inFlight = new Set<ServerResponse>();

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly config: ConfigService<AppConfig, true>,
  ) {}

  onApplicationBootstrap(): void {
    this.server()?.prependListener('request', (_request: IncomingMessage, response: ServerResponse) => {
      if (this.draining) {
        response.shouldKeepAlive = false;
        return;
      }
      this.inFlight.add(response);
      response.once('close', () => this.inFlight.delete(response));
    });
  }

  beforeApplicationShutdown(): void {
    const server = this.server();
    if (!server) return;
    this.draining = true;
    for (const response of this.inFlight) if (!response.headersSent) response.shouldKeepAlive = false;
    this.inFlight.clear();
    server.closeIdleConnections();
    this.sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS).unref();
    this.cut = setTimeout(() => server.closeAllConnections(), this.config.get('shutdownTimeoutMs', { infer: true }) / 2).unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweep);
    clearTimeout(this.cut);
  }

  private server(): Server | undefined {
    return this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
  }
}
