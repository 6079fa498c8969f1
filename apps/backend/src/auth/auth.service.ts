import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { JwtService } from '@nestjs/jwt';
import type { LoginResponse } from '@notify-gateway/contracts';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AuthenticatedUser } from './authenticated-user.js';
import { TokenRevocations } from './token-revocations.js';
import type { AppConfig, JwtConfig } from '../config/app-config.js';
import { ApiError } from '../common/errors/api-error.js';
import { SecurityEventLogger } from '../security/security-event.logger.js';
import { LoginThrottle } from './login-throttle.js';
import { PasswordHasher } from './password-hasher.js';
import { UserDirectory, type LoginCandidate } from './user-directory.js';

/** Login: one generic 401 for every failure, failed attempts limited (LoginThrottle). */
@Injectable()
export class AuthService {
  private readonly jwtConfig: JwtConfig;

  constructor(
    private readonly users: UserDirectory,
    private readonly hasher: PasswordHasher,
    private readonly jwt: JwtService,
    private readonly throttle: LoginThrottle,
    private readonly security: SecurityEventLogger,
    config: ConfigService<AppConfig, true>,
    private readonly revocations: TokenRevocations,
  ) {
    this.jwtConfig = config.get('jwt', { infer: true });
  }

  /** `request`: the HTTP request this comes in, for its log lines. */
  async login(email: string, password: string, ip: string, request?: IncomingMessage): Promise<LoginResponse> {
    if (this.jwtConfig.signKey === null) throw new ApiError(404, 'NOT_FOUND');
    const normalizedEmail = email.trim().toLowerCase();
    const attempt = await this.throttle.attempt(ip, normalizedEmail);
    let user: LoginCandidate;
    try {
      user = await this.checkCredentials(normalizedEmail, password, ip, request);
    } catch (error) {
      // Only a wrong guess counts; a database outage is not the caller's failed attempt.
      if (!(error instanceof ApiError && error.code === 'UNAUTHORIZED')) await attempt.notCounted();
      throw error;
    }
    await attempt.notCounted();

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
    this.security.log('AUTHENTICATION_SUCCESS', { ip, userId: user.id, tenantId: user.tenantId, transport: 'login' }, request);
    return { accessToken, tokenType: 'Bearer', expiresIn: this.jwtConfig.expiresInSec };
  }

  private async checkCredentials(email: string, password: string, ip: string, request: IncomingMessage | undefined): Promise<LoginCandidate> {
    const user = await this.users.findByEmail(email);
    const passwordOk = await this.hasher.verify(user?.passwordHash ?? null, password);
    if (!user || !passwordOk || !user.isActive) {
      const reason = !user ? 'UNKNOWN_USER' : !passwordOk ? 'INVALID_CREDENTIALS' : 'INACTIVE_USER';
      this.security.log('AUTHENTICATION_FAILED', { ip, userId: user?.id, reason, transport: 'login' }, request);
      throw new ApiError(401, 'UNAUTHORIZED', 'Invalid credentials');
    }
    return user;
  }

  /**
   * Revokes the caller's token on every instance: by its id, or (a token without one, e.g.
   * from an identity provider) every token of the user issued so far.
   */
  async logout(user: AuthenticatedUser, ip: string, request?: IncomingMessage): Promise<void> {
    if (user.jti !== undefined) await this.revocations.revokeToken(user.userId, user.jti, user.exp);
    else await this.revocations.revokeUser(user.userId);
    this.security.log('TOKEN_REVOKED', { ip, userId: user.userId, tenantId: user.tenantId, reason: user.jti !== undefined ? 'logout' : 'logout without jti: every token of the user', transport: 'http' }, request);
  }
}
