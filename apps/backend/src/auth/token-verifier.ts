import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { JwtService } from '@nestjs/jwt';
import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import type { AppConfig, JwtConfig } from '../config/app-config.js';
import { AuthFailure } from './auth-failure.js';
import type { AuthenticatedUser } from './authenticated-user.js';
import { UserDirectory } from './user-directory.js';

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** Header parameters that would let the token choose its own key or semantics. */
const REFUSED_HEADERS = ['jku', 'jwk', 'x5u', 'x5c', 'crit'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Claims {
  sub?: unknown;
  exp?: unknown;
  iat?: unknown;
}

/**
 * The one place JWT rules live, for REST, WebSocket and SSE: algorithm pinned by config,
 * exp and sub required, iss/aud when configured, bounded size, and an active user behind it.
 */
@Injectable()
export class TokenVerifier {
  private readonly jwtConfig: JwtConfig;
  /** The verification key, parsed once (see `parseVerifyKey`). */
  private readonly verifyKey: KeyObject | string;

  constructor(
    private readonly jwt: JwtService,
    private readonly users: UserDirectory,
    config: ConfigService<AppConfig, true>,
  ) {
    this.jwtConfig = config.get('jwt', { infer: true });
    this.verifyKey = parseVerifyKey(this.jwtConfig);
  }

  async verify(token: unknown): Promise<AuthenticatedUser> {
    const claims = await this.verifySignature(token);
    return this.activeUser(claims.sub, claims.exp);
  }

  /**
   * A session a verified token already vouched for (an SSE ticket carries its user and exp):
   * the exp must still be ahead and the user still active, as for the token itself.
   */
  async verifySession(userId: string, exp: number): Promise<AuthenticatedUser> {
    if (!Number.isFinite(exp) || exp * 1000 <= Date.now()) throw new AuthFailure('TOKEN_EXPIRED');
    if (!UUID.test(userId)) throw new AuthFailure('INVALID_CLAIMS');
    return this.activeUser(userId.toLowerCase(), exp);
  }

  private async activeUser(userId: string, exp: number): Promise<AuthenticatedUser> {
    const user = await this.users.findById(userId);
    if (!user) throw new AuthFailure('UNKNOWN_USER');
    if (!user.isActive) throw new AuthFailure('INACTIVE_USER');
    return { userId: user.id, tenantId: user.tenantId, role: user.role, email: user.email, exp };
  }

  private async verifySignature(token: unknown): Promise<{ sub: string; exp: number }> {
    if (typeof token !== 'string' || token.length === 0) throw new AuthFailure('MISSING_TOKEN');
    if (token.length > this.jwtConfig.maxTokenLength) throw new AuthFailure('TOKEN_TOO_LARGE');
    if (!JWT_SHAPE.test(token)) throw new AuthFailure('MALFORMED_TOKEN');

    const header = decodeHeader(token);
    if (REFUSED_HEADERS.some((name) => name in header)) throw new AuthFailure('UNSUPPORTED_HEADER');
    // Compared exactly: 'none', 'None', 'HS256' against an RS256 key... all end here.
    if (header.alg !== this.jwtConfig.algorithm) throw new AuthFailure('ALGORITHM_MISMATCH');

    let claims: Claims;
    try {
      claims = await this.jwt.verifyAsync<Claims & object>(token, {
        algorithms: [this.jwtConfig.algorithm],
        // jsonwebtoken takes a KeyObject as is; @nestjs/jwt's option type only names string | Buffer.
        secret: this.jwtConfig.algorithm === 'HS256' ? (this.verifyKey as string) : undefined,
        publicKey: this.jwtConfig.algorithm === 'HS256' ? undefined : (this.verifyKey as string),
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
    if (claims.iat !== undefined && (typeof claims.iat !== 'number' || claims.iat > now + this.jwtConfig.clockToleranceSec)) {
      throw new AuthFailure('INVALID_CLAIMS');
    }
    return { sub: claims.sub.toLowerCase(), exp: claims.exp };
  }
}

/**
 * Given a string, jsonwebtoken parses the key again on every verify — for an HS256 secret it
 * first tries (and fails) createPublicKey, then createSecretKey: the largest CPU cost of a
 * handshake in the bench profile (docs/BENCHMARKS.md). Parsed once here instead; a key that
 * does not parse stays a string so jsonwebtoken reports it per token exactly as before.
 */
function parseVerifyKey(config: JwtConfig): KeyObject | string {
  try {
    return config.algorithm === 'HS256' ? createSecretKey(Buffer.from(config.verifyKey)) : createPublicKey(config.verifyKey);
  } catch {
    return config.verifyKey;
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
