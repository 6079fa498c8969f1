import { Injectable, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { JwtService } from '@nestjs/jwt';
import type { LoginResponse } from '@notify-gateway/contracts';
import { randomUUID } from 'node:crypto';
import type { AuthenticatedUser } from './authenticated-user.js';
import { TokenRevocations } from './token-revocations.js';
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
    private readonly revocations: TokenRevocations,
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

    // After a per-user revocation (rounded up to the next second), the new token's iat is at
    // least that second, so it is not refused with the ones it replaces.
    const now = Math.floor(Date.now() / 1000);
    const iat = Math.max(now, this.revocations.notBeforeOf(user.id) ?? 0);
    const accessToken = await this.jwt.signAsync(
      { sub: user.id, tid: user.tenantId, role: user.role, iat },
      {
        algorithm: this.jwtConfig.algorithm,
        jwtid: randomUUID(),
        ...(this.jwtConfig.keyId ? { keyid: this.jwtConfig.keyId } : {}),
        ...(this.jwtConfig.algorithm === 'HS256' ? { secret: this.jwtConfig.signKey } : { privateKey: this.jwtConfig.signKey }),
        expiresIn: this.jwtConfig.expiresInSec,
        ...(this.jwtConfig.issuer ? { issuer: this.jwtConfig.issuer } : {}),
        ...(this.jwtConfig.audience ? { audience: this.jwtConfig.audience } : {}),
      },
    );
    this.security.log('AUTHENTICATION_SUCCESS', { ip, userId: user.id, tenantId: user.tenantId, transport: 'login' });
    return { accessToken, tokenType: 'Bearer', expiresIn: this.jwtConfig.expiresInSec };
  }

  /**
   * Revokes the caller's token on every instance: by its id, or (a token without one, e.g.
   * from an identity provider) every token of the user issued so far.
   */
  async logout(user: AuthenticatedUser, ip: string): Promise<void> {
    if (user.jti !== undefined) await this.revocations.revokeToken(user.userId, user.jti, user.exp);
    else await this.revocations.revokeUser(user.userId);
    this.security.log('TOKEN_REVOKED', { ip, userId: user.userId, tenantId: user.tenantId, reason: user.jti !== undefined ? 'logout' : 'logout without jti: every token of the user', transport: 'http' });
  }
}
