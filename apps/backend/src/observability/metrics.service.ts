import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export type Transport = 'websocket' | 'sse';

/**
 * Every Prometheus metric of the gateway, on a registry of its own (several apps can share a
 * process in tests). Names are referenced by deploy/ alert rules and the dashboard.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly connectionsActive = new Gauge({
    name: 'notify_connections_active',
    help: 'Open connections on this instance',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });
  readonly connectionsTotal = new Counter({
    name: 'notify_connections_total',
    help: 'Connections accepted since start',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });
  readonly connectionsCapacity = new Gauge({
    name: 'notify_connections_capacity',
    help: 'MAX_WEBSOCKET_CONNECTIONS: the per-instance hard cap',
    registers: [this.registry],
  });
  readonly connectionsPeak = new Gauge({
    name: 'notify_connections_peak',
    help: 'Highest number of open connections (both transports) since start',
    registers: [this.registry],
  });
  readonly connectionAttempts = new Counter({
    name: 'notify_connection_attempts_total',
    help: 'Connection attempts (handshakes reaching authentication)',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });
  readonly connectionFailures = new Counter({
    name: 'notify_connection_failures_total',
    help: 'Connection attempts refused, by reason',
    labelNames: ['transport', 'reason'] as const,
    registers: [this.registry],
  });
  readonly connectionFailureRate = new Gauge({
    name: 'notify_connection_failure_rate',
    help: 'Refused / attempted connections over the last metrics interval (0..1)',
    registers: [this.registry],
  });
  readonly connectionDuration = new Histogram({
    name: 'notify_connection_duration_seconds',
    help: 'How long closed connections stayed open',
    labelNames: ['transport'] as const,
    buckets: [1, 10, 60, 300, 900, 3600, 14400, 86400],
    registers: [this.registry],
  });
  readonly authFailures = new Counter({
    name: 'notify_auth_failures_total',
    help: 'Authentication failures by reason',
    labelNames: ['transport', 'reason'] as const,
    registers: [this.registry],
  });
  readonly originRejections = new Counter({
    name: 'notify_origin_rejections_total',
    help: 'Requests and handshakes refused for their Origin',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });
  readonly rateLimitHits = new Counter({
    name: 'notify_rate_limit_hits_total',
    help: 'Requests or events refused by a rate limit',
    labelNames: ['limit'] as const,
    registers: [this.registry],
  });
  readonly notificationsPublished = new Counter({
    name: 'notify_notifications_published_total',
    help: 'Notifications persisted and handed to delivery',
    labelNames: ['scope'] as const,
    registers: [this.registry],
  });
  readonly notificationsDelivered = new Counter({
    name: 'notify_notifications_delivered_total',
    help: 'Notifications written to local sockets or streams',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });
  readonly publishLatency = new Histogram({
    name: 'notify_publish_to_emit_seconds',
    help: 'From publish call to emit on this instance (persist included)',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  // Delivery streams (docs/DELIVERY.md): what the group commit holds locked, per batch.
  readonly streamLockHold = new Histogram({
    name: 'notify_stream_lock_hold_seconds',
    help: 'Per group commit: how long its statement held its streams\' counter rows locked, timed in PostgreSQL from the first row lock granted to the end of the statement (the commit follows)',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  readonly batchNotifications = new Counter({
    name: 'notify_group_commit_notifications_total',
    help: 'Notifications stored by group commits; hold per notification = lock hold sum / this',
    registers: [this.registry],
  });
  // Catch-up reads take turns (notifications/catch-up-gate.ts).
  readonly catchUpWaiting = new Gauge({
    name: 'notify_catch_up_waiting',
    help: 'Catch-up reads waiting for a turn on this instance',
    registers: [this.registry],
  });
  readonly catchUpRefused = new Counter({
    name: 'notify_catch_up_refused_total',
    help: 'Catch-up reads refused with SERVICE_UNAVAILABLE: the line was full, the wait ran out, or the instance was stopping',
    registers: [this.registry],
  });

  readonly sseStreams = new Gauge({
    name: 'notify_sse_streams_active',
    help: 'Open SSE streams on this instance',
    registers: [this.registry],
  });
  readonly redisErrors = new Counter({
    name: 'notify_redis_errors_total',
    help: 'Errors reported by Redis clients and the socket.io adapter',
    labelNames: ['client'] as const,
    registers: [this.registry],
  });
  readonly securityEvents = new Counter({
    name: 'notify_security_events_total',
    help: 'Security events logged, by event name',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });
  readonly securityLogDropped = new Counter({
    name: 'notify_security_log_dropped_total',
    help: 'Security log lines dropped by sampling (the events are still counted above), by event name',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });
  readonly abuseClosures = new Counter({
    name: 'notify_abuse_closures_total',
    help: 'Connections and sessions closed for abuse, by bound (connect-attempts, inbound-frames, inbound-bytes, refusals)',
    labelNames: ['bound'] as const,
    registers: [this.registry],
  });
  // --- Token lifecycle ---
  readonly jwksRefreshFailures = new Counter({
    name: 'notify_jwks_refresh_failures_total',
    help: 'JWKS fetches that failed (the last good key set stays in use)',
    registers: [this.registry],
  });
  readonly jwksKeys = new Gauge({
    name: 'notify_jwks_keys',
    help: 'Keys in the JWKS key set in use',
    registers: [this.registry],
  });
  readonly tokensRevoked = new Counter({
    name: 'notify_tokens_revoked_total',
    help: 'Revocations recorded on this instance: by token id (logout) or per-user not-before',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly tokenRefreshes = new Counter({
    name: 'notify_token_refreshes_total',
    help: 'In-band auth:refresh requests, by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  // --- Retention (issue 20) ---
  readonly pruneRows = new Counter({
    name: 'notify_prune_rows_total',
    help: 'Rows deleted by the pruner, by reason (retention, user_cap, idempotency_keys)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly pruneRuns = new Counter({
    name: 'notify_prune_runs_total',
    help: 'Prune runs on this instance, by outcome (ran, skipped: another instance holds the lock, failed)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly pruneDuration = new Histogram({
    name: 'notify_prune_duration_seconds',
    help: 'Duration of one prune run on this instance',
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });
  readonly pruneLastRun = new Gauge({
    name: 'notify_prune_last_run_timestamp_seconds',
    help: 'When this instance last completed a prune run (unix seconds)',
    registers: [this.registry],
  });

  constructor() {
    // Process metrics include event-loop lag (nodejs_eventloop_lag_*), memory and handles.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 20 });
  }
}
