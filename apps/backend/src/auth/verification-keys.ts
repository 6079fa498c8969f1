import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import type { AppConfig, JwtAlgorithm, JwtConfig } from '../config/app-config.js';
import { AuthFailure } from './auth-failure.js';
import { KID_SHAPE, parseJwks } from '../config/jwks-document.js';
import { JwksKeySource } from './jwks-key-source.js';

/** A key a token may be verified with, pinned to one algorithm. */
export interface VerificationKey {
  kid: string | undefined;
  algorithm: JwtAlgorithm;
  /** Parsed once; a primary key that does not parse stays a string (see `parsePrimary`). */
  key: KeyObject | string;
}

/**
 * Every key the gateway verifies with, chosen by the token's `kid`: the primary key
 * (JWT_SECRET / JWT_PUBLIC_KEY, kid JWT_KEY_ID), the static sets (JWT_SECRETS, JWT_PUBLIC_KEYS)
 * and the JWKS URL. A token without kid is verified with the primary key, or with the only key
 * when exactly one is configured; otherwise it is refused.
 */
@Injectable()
export class VerificationKeys {
  private readonly primary: VerificationKey | null;
  private readonly byKid = new Map<string, VerificationKey>();

  constructor(
    private readonly jwks: JwksKeySource,
    config: ConfigService<AppConfig, true>,
  ) {
    const jwt = config.get('jwt', { infer: true });
    this.primary = jwt.verifyKey === null ? null : { kid: jwt.keyId, algorithm: jwt.algorithm, key: parsePrimary(jwt, jwt.verifyKey) };
    if (this.primary?.kid !== undefined) this.byKid.set(this.primary.kid, this.primary);
    const publicJwks = jwt.staticKeys.flatMap((key) => (key.algorithm === 'HS256' ? [] : [key.jwk]));
    const parsedPublic = publicJwks.length > 0 ? parseJwks({ keys: publicJwks }).keys : [];
    for (const key of jwt.staticKeys) {
      if (key.algorithm === 'HS256') this.byKid.set(key.kid, { kid: key.kid, algorithm: 'HS256', key: createSecretKey(Buffer.from(key.secret)) });
    }
    for (const key of parsedPublic) this.byKid.set(key.kid, { kid: key.kid, algorithm: key.algorithm, key: key.key });
  }

  /** The key for a token header's `kid` (absent: undefined). Refuses UNKNOWN_KEY. */
  async find(kid: unknown): Promise<VerificationKey> {
    if (kid === undefined) return this.withoutKid();
    // Anything but a well-formed kid is never looked up (nor triggers a JWKS fetch).
    if (typeof kid !== 'string' || !KID_SHAPE.test(kid)) throw new AuthFailure('UNKNOWN_KEY');
    const local = this.byKid.get(kid);
    if (local) return local;
    const remote = await this.jwks.find(kid);
    if (remote) return { kid: remote.kid, algorithm: remote.algorithm, key: remote.key };
    throw new AuthFailure('UNKNOWN_KEY');
  }

  /**
   * The key material `find` would answer with now, without fetching (undefined: none, or only a
   * fetch could tell): a cached verification holds only while this is the key that made it.
   */
  currentKey(kid: unknown): VerificationKey['key'] | undefined {
    if (kid === undefined) {
      try {
        return this.withoutKid().key;
      } catch {
        return undefined;
      }
    }
    if (typeof kid !== 'string') return undefined;
    return (this.byKid.get(kid) ?? this.jwks.current(kid))?.key;
  }

  private withoutKid(): VerificationKey {
    if (this.primary) return this.primary;
    if (this.byKid.size === 1 && this.jwks.size === 0) return this.byKid.values().next().value as VerificationKey;
    const onlyRemote = this.byKid.size === 0 ? this.jwks.onlyKey() : undefined;
    if (onlyRemote) return { kid: onlyRemote.kid, algorithm: onlyRemote.algorithm, key: onlyRemote.key };
    throw new AuthFailure('UNKNOWN_KEY');
  }
}

/**
 * Given a string, jsonwebtoken parses the key again on every verify — for an HS256 secret it
 * first tries (and fails) createPublicKey, then createSecretKey: the largest CPU cost of a
 * handshake in the bench profile (docs/BENCHMARKS.md). Parsed once here instead; a key that
 * does not parse stays a string so jsonwebtoken reports it per token exactly as before.
 */
function parsePrimary(config: JwtConfig, verifyKey: string): KeyObject | string {
  try {
    return config.algorithm === 'HS256' ? createSecretKey(Buffer.from(verifyKey)) : createPublicKey(verifyKey);
  } catch {
    return verifyKey;
  }
}
