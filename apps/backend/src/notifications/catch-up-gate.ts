import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import { ApiError } from '../common/errors/api-error.js';
import { MetricsService } from '../observability/metrics.service.js';

/**
 * Catch-up reads at once per instance: most of the shared pool (20 connections), never all of
 * it, so listings, read marks and the credential checks of new connections still get one.
 */
export const CATCH_UP_READS_AT_ONCE = 12;

/** Readers that may wait for a turn; beyond this a reconnect storm is told to come back. */
export const CATCH_UP_MAX_WAITING = 5000;

/**
 * Longest wait for a turn: well inside a client's ack timeout (10 s in packages/client), so the
 * answer still reaches a client that waits for it.
 */
export const CATCH_UP_MAX_WAIT_MS = 5000;

/** Seconds a refused reader is told to wait (Retry-After, and the ack's retryAfter). */
const RETRY_AFTER_SEC = 1;

export interface GateLimits {
  atOnce: number;
  maxWaiting: number;
  maxWaitMs: number;
}

interface Waiter {
  start(): void;
  refuse(): void;
  timer: NodeJS.Timeout;
}

/**
 * A reconnect storm brings thousands of catch-up reads at once. Unbounded they took every pool
 * connection and failed after the pool's 3 s connect timeout, publishes and fresh handshakes
 * with them. Here they take turns, first come first served, and a reader that cannot get a turn
 * in time is refused with SERVICE_UNAVAILABLE and a retry hint instead of waiting on a timeout.
 * On shutdown the line is refused at once: its readers' connections are closing, and the pool
 * ends after them.
 */
@Injectable()
export class CatchUpGate implements BeforeApplicationShutdown {
  protected readonly limits: GateLimits = { atOnce: CATCH_UP_READS_AT_ONCE, maxWaiting: CATCH_UP_MAX_WAITING, maxWaitMs: CATCH_UP_MAX_WAIT_MS };
  private running = 0;
  private readonly waiting: Waiter[] = [];
  /** Index of the first waiter still in line: `shift` on 5,000 waiters is a copy each time. */
  private head = 0;
  private stopping = false;

  constructor(private readonly metrics: MetricsService) {}

  async run<T>(read: () => Promise<T>): Promise<T> {
    await this.turn();
    try {
      return await read();
    } finally {
      this.running -= 1;
      this.next();
    }
  }

  private turn(): Promise<void> {
    if (this.stopping) return Promise.reject(this.refusal());
    if (this.running < this.limits.atOnce && this.queued() === 0) {
      this.running += 1;
      return Promise.resolve();
    }
    if (this.queued() >= this.limits.maxWaiting) return Promise.reject(this.refusal());
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        start: () => {
          clearTimeout(waiter.timer);
          this.running += 1;
          resolve();
        },
        refuse: () => {
          clearTimeout(waiter.timer);
          reject(this.refusal());
        },
        timer: setTimeout(() => {
          this.drop(waiter);
          waiter.refuse();
        }, this.limits.maxWaitMs).unref(),
      };
      this.waiting.push(waiter);
      this.metrics.catchUpWaiting.set(this.queued());
    });
  }

  beforeApplicationShutdown(): void {
    this.stopping = true;
    const line = this.waiting.slice(this.head);
    this.waiting.length = 0;
    this.head = 0;
    for (const waiter of line) waiter.refuse();
    this.metrics.catchUpWaiting.set(0);
  }

  private next(): void {
    while (this.running < this.limits.atOnce && this.queued() > 0) {
      const waiter = this.waiting[this.head] as Waiter;
      this.head += 1;
      waiter.start();
    }
    this.compact();
    this.metrics.catchUpWaiting.set(this.queued());
  }

  private drop(waiter: Waiter): void {
    const index = this.waiting.indexOf(waiter, this.head);
    if (index >= 0) this.waiting.splice(index, 1);
    this.metrics.catchUpWaiting.set(this.queued());
  }

  private queued(): number {
    return this.waiting.length - this.head;
  }

  /** Drops the served prefix once it is the larger part of the array. */
  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.waiting.length) {
      this.waiting.splice(0, this.head);
      this.head = 0;
    }
  }

  private refusal(): ApiError {
    this.metrics.catchUpRefused.inc();
    return new ApiError(503, 'SERVICE_UNAVAILABLE', undefined, undefined, RETRY_AFTER_SEC);
  }
}
