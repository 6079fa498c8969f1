import { Injectable, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { JwtService } from '@nestjs/jwt';
import type { LoginResponse } from '@notify-gateway/contracts';
import type { AppConfig, JwtConfig } from '../config/app-config.js';
import { ApiError } from '../common/errors/api-error.js';
import { RateLimiterFactory, type RateLimit } from '../security/rate-limiter.factory.js';
import { SecurityEventLogger } from '../security/security-event.logger.js';
import { PasswordHasher } from './password-hasher.js';
import { UserDirectory } from './user-directory.js';

/** Login: one generic 401 for every failure, attempts limited per IP and per email. */
@Injectable()
export class AuthService implements OnModuleInit {
  private readonly jwtConfig: JwtConfig;
  private perIp!: RateLimit;
  private perEmail!: RateLimit;

  constructor(
    private readonly users: UserDirectory,
    private readonly hasher: PasswordHasher,
    private readonly jwt: JwtService,
    private readonly limiters: RateLimiterFactory,
    private readonly security: SecurityEventLogger,
    private readonly config: ConfigService<AppConfig, true>,
  ) {
    this.jwtConfig = config.get('jwt', { infer: true });
  }

  onModuleInit(): void {
    const limits = this.config.get('limits', { infer: true });
    this.perIp = this.limiters.create('login-ip', limits.loginAttemptsPerIp, 15 * 60);
    this.perEmail = this.limiters.create('login-email', limits.loginAttemptsPerEmail, 15 * 60);
  }

  async login(email: string, password: string, ip: string): Promise<LoginResponse> {
    if (this.jwtConfig.signKey === null) throw new ApiError(404, 'NOT_FOUND');
    const normalizedEmail = email.trim().toLowerCase();
    for (const [limit, key] of [
      [this.perIp, ip],
      [this.perEmail, normalizedEmail],
    ] as const) {
      const decision = await limit.consume(key);
      if (!decision.allowed) {
        this.security.log('RATE_LIMIT_EXCEEDED', { ip, reason: `login:${limit.name}` });
        throw new ApiError(429, 'RATE_LIMITED', undefined, undefined, decision.retryAfterSec);
      }
    }

    const user = await this.users.findByEmail(normalizedEmail);
    const passwordOk = await this.hasher.verify(user?.passwordHash ?? null, password);
    if (!user || !passwordOk || !user.isActive) {
      const reason = !user ? 'UNKNOWN_USER' : !passwordOk ? 'INVALID_CREDENTIALS' : 'INACTIVE_USER';
      this.security.log('AUTHENTICATION_FAILED', { ip, userId: user?.id, reason, transport: 'login' });
      throw new ApiError(401, 'UNAUTHORIZED', 'Invalid credentials');
    }

    const accessToken = await this.jwt.signAsync(
      { sub: user.id, tid: user.tenantId, role: user.role },
      {
        algorithm: this.jwtConfig.algorithm,
        ...(this.jwtConfig.algorithm === 'HS256' ? { secret: this.jwtConfig.signKey } : { privateKey: this.jwtConfig.signKey }),
        expiresIn: this.jwtConfig.expiresInSec,
        ...(this.jwtConfig.issuer ? { issuer: this.jwtConfig.issuer } : {}),
        ...(this.jwtConfig.audience ? { audience: this.jwtConfig.audience } : {}),
      },
    );
    this.security.log('AUTHENTICATION_SUCCESS', { ip, userId: user.id, tenantId: user.tenantId, transport: 'login' });
    return { accessToken, tokenType: 'Bearer', expiresIn: this.jwtConfig.expiresInSec };
  }
}
