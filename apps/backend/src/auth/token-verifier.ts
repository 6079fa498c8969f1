import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { JwtService } from '@nestjs/jwt';
import type { SessionEndCode } from '@notify-gateway/contracts';
import type { AppConfig, JwtConfig } from '../config/app-config.js';
import { AuthFailure } from './auth-failure.js';
import type { AuthenticatedUser } from './authenticated-user.js';
import { TokenRevocations } from './token-revocations.js';
import { UserDirectory } from './user-directory.js';
import { VerificationKeys } from './verification-keys.js';
import { VerifiedTokenCache } from './verified-token-cache.js';

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** Header parameters that would let the token choose its own key or semantics. */
const REFUSED_HEADERS = ['jku', 'jwk', 'x5u', 'x5c', 'crit'];
/** Algorithms any configured key can have; anything else is refused before a key is looked up. */
const KNOWN_ALGORITHMS = new Set(['HS256', 'RS256', 'ES256']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const JTI_SHAPE = /^[\x21-\x7e]{1,256}$/;
/** Distinct tokens whose verification is remembered (a few hundred bytes each). */
const VERIFIED_TOKENS_MAX = 10_000;

interface Claims {
  sub?: unknown;
  exp?: unknown;
  iat?: unknown;
  jti?: unknown;
}

interface VerifiedClaims {
  sub: string;
  exp: number;
  iat?: number;
  jti?: string;
}

/** What an SSE ticket (or another session a token already vouched for) carries. */
export interface VouchedSession {
  userId: string;
  exp: number;
  jti?: string;
  iat?: number;
}

/**
 * The one place JWT rules live, for REST, WebSocket and SSE: the key chosen by `kid` with its
 * own pinned algorithm, exp and sub required, iss/aud when configured, a bounded size and
 * lifetime, not revoked, and an active user behind it.
 */
@Injectable()
export class TokenVerifier {
  private readonly jwtConfig: JwtConfig;
  private readonly verified = new VerifiedTokenCache<VerifiedClaims>(VERIFIED_TOKENS_MAX);

  constructor(
    private readonly jwt: JwtService,
    private readonly users: UserDirectory,
    private readonly keys: VerificationKeys,
    private readonly revocations: TokenRevocations,
    config: ConfigService<AppConfig, true>,
  ) {
    this.jwtConfig = config.get('jwt', { infer: true });
  }

  async verify(token: unknown): Promise<AuthenticatedUser> {
    const claims = await this.verifySignature(token);
    // Memory only, and before the user is read: a revoked token costs no database round trip.
    if (this.revocations.isRevoked(claims.sub, claims.jti, claims.iat)) throw new AuthFailure('TOKEN_REVOKED');
    return this.activeUser(claims.sub, claims.exp, claims.jti, claims.iat);
  }

  /**
   * A session a verified token already vouched for (an SSE ticket carries its user, exp, jti
   * and iat): the exp must still be ahead, the token not revoked since, the user still active.
   */
  async verifySession(session: VouchedSession): Promise<AuthenticatedUser> {
    const { exp } = session;
    if (!Number.isFinite(exp) || exp * 1000 <= Date.now()) throw new AuthFailure('TOKEN_EXPIRED');
    if (!UUID.test(session.userId)) throw new AuthFailure('INVALID_CLAIMS');
    const userId = session.userId.toLowerCase();
    if (this.revocations.isRevoked(userId, session.jti, session.iat)) throw new AuthFailure('TOKEN_REVOKED');
    return this.activeUser(userId, exp, session.jti, session.iat);
  }

  /**
   * Memory only: the code a verified session ends with if its token is revoked now. For the
   * moment the session becomes one RevokedSessions can find (in its rooms, its stream open, its
   * refreshed token installed): a revocation heard while it was being verified found nothing to end.
   */
  revokedSessionEnd(user: AuthenticatedUser): SessionEndCode | undefined {
    return this.revocations.sessionEnd(user.userId, user.jti, user.iat);
  }

  private async activeUser(userId: string, exp: number, jti: string | undefined, iat: number | undefined): Promise<AuthenticatedUser> {
    const user = await this.users.findById(userId);
    if (!user) throw new AuthFailure('UNKNOWN_USER');
    if (!user.isActive) throw new AuthFailure('INACTIVE_USER');
    return { userId: user.id, tenantId: user.tenantId, role: user.role, email: user.email, exp, ...(jti !== undefined ? { jti } : {}), ...(iat !== undefined ? { iat } : {}) };
  }

  private async verifySignature(token: unknown): Promise<VerifiedClaims> {
    if (typeof token !== 'string' || token.length === 0) throw new AuthFailure('MISSING_TOKEN');
    if (token.length > this.jwtConfig.maxTokenLength) throw new AuthFailure('TOKEN_TOO_LARGE');
    const remembered = this.verified.get(token, Date.now(), (kid) => this.keys.currentKey(kid));
    if (remembered) return remembered;
    if (!JWT_SHAPE.test(token)) throw new AuthFailure('MALFORMED_TOKEN');

    const header = decodeHeader(token);
    if (REFUSED_HEADERS.some((name) => name in header)) throw new AuthFailure('UNSUPPORTED_HEADER');
    // Compared exactly: 'none', 'None', 'hs256'... end here, before any key is looked up.
    if (typeof header.alg !== 'string' || !KNOWN_ALGORITHMS.has(header.alg)) throw new AuthFailure('ALGORITHM_MISMATCH');
    const key = await this.keys.find(header.kid);
    // The key's algorithm, never the token's: HS256 against an RS256 key ends here.
    if (header.alg !== key.algorithm) throw new AuthFailure('ALGORITHM_MISMATCH');

    let claims: Claims;
    try {
      claims = await this.jwt.verifyAsync<Claims & object>(token, {
        algorithms: [key.algorithm],
        // jsonwebtoken takes a KeyObject as is; @nestjs/jwt's option type only names string | Buffer.
        secret: key.algorithm === 'HS256' ? (key.key as string) : undefined,
        publicKey: key.algorithm === 'HS256' ? undefined : (key.key as string),
        issuer: this.jwtConfig.issuer,
        audience: this.jwtConfig.audience,
        clockTolerance: this.jwtConfig.clockToleranceSec,
      });
    } catch (error) {
      throw new AuthFailure(classifyJwtError(error));
    }

    const now = Math.floor(Date.now() / 1000);
    if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp)) throw new AuthFailure('INVALID_CLAIMS');
    if (typeof claims.sub !== 'string' || !UUID.test(claims.sub)) throw new AuthFailure('INVALID_CLAIMS');
    if (claims.iat !== undefined && (typeof claims.iat !== 'number' || !Number.isFinite(claims.iat) || claims.iat > now + this.jwtConfig.clockToleranceSec)) {
      throw new AuthFailure('INVALID_CLAIMS');
    }
    if (claims.jti !== undefined && (typeof claims.jti !== 'string' || !JTI_SHAPE.test(claims.jti))) throw new AuthFailure('INVALID_CLAIMS');
    const maxLifetime = this.jwtConfig.maxLifetimeSec;
    // Without iat, the lifetime left is all there is to judge.
    if (maxLifetime !== undefined && claims.exp - (claims.iat ?? now) > maxLifetime + this.jwtConfig.clockToleranceSec) {
      throw new AuthFailure('LIFETIME_TOO_LONG');
    }
    const verified = { sub: claims.sub.toLowerCase(), exp: claims.exp, ...(typeof claims.iat === 'number' ? { iat: claims.iat } : {}), ...(typeof claims.jti === 'string' ? { jti: claims.jti } : {}) };
    this.verified.set(token, { claims: verified, kid: header.kid, key: key.key, validBeforeSec: claims.exp + this.jwtConfig.clockToleranceSec });
    return verified;
  }
}

function decodeHeader(token: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString('utf8'));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new AuthFailure('MALFORMED_TOKEN');
    return parsed as Record<string, unknown>;
  } catch {
    throw new AuthFailure('MALFORMED_TOKEN');
  }
}

function classifyJwtError(error: unknown): 'TOKEN_EXPIRED' | 'TOKEN_NOT_YET_VALID' | 'INVALID_SIGNATURE' | 'INVALID_CLAIMS' {
  const name = error instanceof Error ? error.name : '';
  const message = error instanceof Error ? error.message : '';
  if (name === 'TokenExpiredError') return 'TOKEN_EXPIRED';
  if (name === 'NotBeforeError') return 'TOKEN_NOT_YET_VALID';
  if (/signature|algorithm|malformed|secret|key/i.test(message)) return 'INVALID_SIGNATURE';
  return 'INVALID_CLAIMS';
}
