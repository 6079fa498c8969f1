import { Injectable, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/app-config.js';
import { RateLimiterFactory, type RateLimit } from '../security/rate-limiter.factory.js';
import { RequestBudgets } from '../security/request-budgets.js';

const LOCK_WINDOW_SEC = 15 * 60;
const GLOBAL_WINDOW_SEC = 60 * 60;

/** A login attempt's hold on the limits: kept when the password was wrong, given back otherwise. */
export interface LoginAttempt {
  /** The attempt was not a failed guess (it succeeded, or the server could not check it). */
  notCounted(): Promise<void>;
}

/**
 * Failed logins, limited three ways: per IP (guessing across emails), per (IP, email) — the lock
 * an attacker can only put on its own address, so the owner still logs in from another — and per
 * email from every IP over a longer window (the slower back-off against a spread-out guess).
 * Every attempt takes its point before the password is checked, so parallel guesses cannot slip
 * past the limit; a successful login gives its points back and so never counts.
 */
@Injectable()
export class LoginThrottle implements OnModuleInit {
  private perIp!: RateLimit;
  private perIpAndEmail!: RateLimit;
  private perEmail!: RateLimit;

  constructor(
    private readonly config: ConfigService<AppConfig, true>,
    private readonly limiters: RateLimiterFactory,
    private readonly budgets: RequestBudgets,
  ) {}

  onModuleInit(): void {
    const limits = this.config.get('limits', { infer: true });
    this.perIp = this.limiters.create('login-ip', limits.loginAttemptsPerIp, LOCK_WINDOW_SEC);
    this.perIpAndEmail = this.limiters.create('login-ip-email', limits.loginAttemptsPerEmail, LOCK_WINDOW_SEC);
    this.perEmail = this.limiters.create('login-email', limits.loginFailuresPerEmailGlobal, GLOBAL_WINDOW_SEC);
  }

  /** Takes a point on each limit, or throws the 429 and holds none. */
  async attempt(ip: string, email: string): Promise<LoginAttempt> {
    const holds: [RateLimit, string][] = [
      [this.perIp, ip],
      [this.perIpAndEmail, `${ip}|${email}`],
      [this.perEmail, email],
    ];
    const taken: [RateLimit, string][] = [];
    const giveBack = (): Promise<void> => Promise.all(taken.map(([limit, key]) => limit.reward(key))).then(() => undefined);
    for (const [limit, key] of holds) {
      const decision = await limit.consume(key);
      if (!decision.allowed) {
        await giveBack();
        throw this.budgets.refusal(limit.name, decision, { ip, transport: 'login' });
      }
      taken.push([limit, key]);
    }
    return { notCounted: giveBack };
  }
}
