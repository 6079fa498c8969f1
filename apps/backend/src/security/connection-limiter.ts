import { Injectable, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/app-config.js';
import { MetricsService, type Transport } from '../observability/metrics.service.js';
import { RateLimiterFactory, type RateLimit, type RateLimitDecision } from './rate-limiter.factory.js';
import { UserConnectionCounter } from './user-connection-counter.js';

export type ConnectionRefusal = { code: 'CONNECTION_LIMIT'; reason: 'instance' | 'user' | 'ip' } | { code: 'RATE_LIMITED'; reason: 'connect-rate' };

export interface ConnectionLease {
  readonly id: string;
  /** Idempotent: safe to call from every path that can end a connection. */
  release(): void;
}

/**
 * Caps shared by sockets and SSE streams: per instance (hard), per IP, per user (across
 * instances when Redis is configured), plus a per-IP rate of new connections against storms.
 */
@Injectable()
export class ConnectionLimiter implements OnModuleInit {
  private readonly perIp = new Map<string, number>();
  private total = 0;
  private peak = 0;
  private connectRate!: RateLimit;
  private readonly limits: AppConfig['limits'];
  private nextId = 0;

  constructor(
    config: ConfigService<AppConfig, true>,
    private readonly limiters: RateLimiterFactory,
    private readonly users: UserConnectionCounter,
    private readonly metrics: MetricsService,
  ) {
    this.limits = config.get('limits', { infer: true });
  }

  onModuleInit(): void {
    this.connectRate = this.limiters.create('connect-ip', this.limits.connectRatePerIp, 60);
    this.metrics.connectionsCapacity.set(this.limits.maxConnections);
  }

  get active(): number {
    return this.total;
  }

  get capacity(): number {
    return this.limits.maxConnections;
  }

  /** Before authentication: cheap checks on the peer alone, the connect rate included. */
  async admitPeer(ip: string): Promise<ConnectionRefusal | null> {
    const local = this.admitLocal(ip);
    if (local) return local;
    return (await this.spendConnectRate(ip)).allowed ? null : { code: 'RATE_LIMITED', reason: 'connect-rate' };
  }

  /** The caps this instance knows without asking anyone (no Redis call). */
  admitLocal(ip: string): ConnectionRefusal | null {
    if (this.total >= this.limits.maxConnections) return { code: 'CONNECTION_LIMIT', reason: 'instance' };
    if ((this.perIp.get(ip) ?? 0) >= this.limits.maxConnectionsPerIp) return { code: 'CONNECTION_LIMIT', reason: 'ip' };
    return null;
  }

  /** One new connection against CONNECT_RATE_PER_IP. */
  spendConnectRate(ip: string): Promise<RateLimitDecision> {
    return this.connectRate.consume(ip);
  }

  /** After authentication: takes a slot on every cap, or none. */
  async acquire(userId: string, ip: string, transport: Transport): Promise<ConnectionLease | ConnectionRefusal> {
    if (this.total >= this.limits.maxConnections) return { code: 'CONNECTION_LIMIT', reason: 'instance' };
    const ipCount = this.perIp.get(ip) ?? 0;
    if (ipCount >= this.limits.maxConnectionsPerIp) return { code: 'CONNECTION_LIMIT', reason: 'ip' };
    // Count locally first so concurrent handshakes cannot all slip past the caps.
    this.total += 1;
    this.perIp.set(ip, ipCount + 1);
    const id = `${transport}-${++this.nextId}`;
    const admitted = await this.users.add(userId, id, this.limits.maxConnectionsPerUser);
    if (!admitted) {
      this.releaseLocal(ip);
      return { code: 'CONNECTION_LIMIT', reason: 'user' };
    }
    if (this.total > this.peak) {
      this.peak = this.total;
      this.metrics.connectionsPeak.set(this.peak);
    }
    return new Lease(id, userId, ip, this);
  }

  /** A lease's end: its slots on every cap. */
  releaseLease(lease: Lease): void {
    this.releaseLocal(lease.ip);
    this.users.remove(lease.userId, lease.id);
  }

  private releaseLocal(ip: string): void {
    this.total -= 1;
    const left = (this.perIp.get(ip) ?? 1) - 1;
    if (left <= 0) this.perIp.delete(ip);
    else this.perIp.set(ip, left);
  }
}

/** One object per connection, its fields all it keeps (no closures over them). */
class Lease implements ConnectionLease {
  private released = false;

  constructor(
    readonly id: string,
    readonly userId: string,
    readonly ip: string,
    private readonly limiter: ConnectionLimiter,
  ) {}

  release(): void {
    if (this.released) return;
    this.released = true;
    this.limiter.releaseLease(this);
  }
}

export function isRefusal(result: ConnectionLease | ConnectionRefusal): result is ConnectionRefusal {
  return 'code' in result;
}
