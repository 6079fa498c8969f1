import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ApiError } from '../common/errors/api-error.js';
import type { AppConfig } from '../config/app-config.js';

/** Seconds a publish refused while stopping is told to wait (another instance takes it). */
const RETRY_AFTER_SEC = 1;

/**
 * Publishes finish before the fan-out closes. Nest closes the socket server and its Redis
 * clients before the HTTP server has drained, so a publish still in flight then was stored and
 * answered 201, but its live event never left this instance: readers live elsewhere missed it,
 * and with no later notification in their stream nothing showed them the gap (measured in the
 * churn bench; apps/backend/test/delivery/shutdown-fanout.e2e-spec.ts).
 * Before shutdown, new publishes are refused with SERVICE_UNAVAILABLE (a publisher retries on
 * another instance, with its idempotency key), and those in flight are waited for, up to half
 * of SHUTDOWN_TIMEOUT_MS.
 */
@Injectable()
export class PublishDrain implements BeforeApplicationShutdown {
  private readonly logger = new Logger(PublishDrain.name);
  private inFlight = 0;
  private stopping = false;
  private idle: (() => void) | undefined;

  constructor(private readonly config: ConfigService<AppConfig, true>) {}

  /** Runs one publish (store and emit) unless this instance is stopping. */
  async run<T>(publish: () => Promise<T>): Promise<T> {
    if (this.stopping) throw new ApiError(503, 'SERVICE_UNAVAILABLE', undefined, undefined, RETRY_AFTER_SEC);
    this.inFlight += 1;
    try {
      return await publish();
    } finally {
      this.inFlight -= 1;
      if (this.inFlight === 0) this.idle?.();
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.inFlight === 0) return;
    const budgetMs = this.config.get('shutdownTimeoutMs', { infer: true }) / 2;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.idle = resolve;
      timer = setTimeout(resolve, budgetMs).unref();
    });
    clearTimeout(timer);
    if (this.inFlight > 0) this.logger.warn({ inFlight: this.inFlight, budgetMs }, 'publishes still in flight at shutdown: their live events may not leave this instance (readers catch up on reconnect)');
  }
}
