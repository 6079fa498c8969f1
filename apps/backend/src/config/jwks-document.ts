import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { JsonWebKeyInput } from './app-config.js';

/** The asymmetric algorithms a JWK may be pinned to. */
export type JwkAlgorithm = 'RS256' | 'ES256';

export interface JwkVerificationKey {
  kid: string;
  algorithm: JwkAlgorithm;
  key: KeyObject;
  /** The JWK as published. */
  jwk: JsonWebKeyInput;
}

export interface ParsedJwks {
  keys: JwkVerificationKey[];
  /** `kid: why` of the keys left out (other uses, algorithms or types); never key material. */
  skipped: string[];
}

export class JwksDocumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JwksDocumentError';
  }
}

/** More keys than any identity provider publishes; a bigger document is refused. */
const MAX_KEYS = 100;
/** What a kid may look like: printable ASCII, bounded. Anything else is never looked up. */
export const KID_SHAPE = /^[\x21-\x7e]{1,256}$/;

/**
 * A JWKS document (RFC 7517) → verification keys, each pinned to one algorithm derived from
 * the key itself (`alg` when present, else its type and curve). Symmetric (`oct`) and private
 * keys are never taken from a JWKS: secrets belong in JWT_SECRETS.
 */
export function parseJwks(document: unknown): ParsedJwks {
  const parsed = typeof document === 'string' ? parseJson(document) : document;
  if (parsed === null || typeof parsed !== 'object' || !Array.isArray((parsed as { keys?: unknown }).keys)) {
    throw new JwksDocumentError('must be a JWKS document: {"keys":[…]}');
  }
  const entries = (parsed as { keys: unknown[] }).keys;
  if (entries.length > MAX_KEYS) throw new JwksDocumentError(`holds more than ${MAX_KEYS} keys`);
  const keys: JwkVerificationKey[] = [];
  const skipped: string[] = [];
  for (const entry of entries) {
    const outcome = toKey(entry);
    if (typeof outcome === 'string') {
      skipped.push(outcome);
    } else if (keys.some((key) => key.kid === outcome.kid)) {
      skipped.push(`${outcome.kid}: duplicate kid`);
    } else {
      keys.push(outcome);
    }
  }
  if (keys.length === 0) throw new JwksDocumentError(`has no usable RS256/ES256 signing key${skipped.length ? ` (${skipped.join('; ')})` : ''}`);
  return { keys, skipped };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new JwksDocumentError('is not valid JSON');
  }
}

/** A key, or why it was left out. */
function toKey(entry: unknown): JwkVerificationKey | string {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return '?: not an object';
  const jwk = entry as JsonWebKeyInput;
  if (typeof jwk.kid !== 'string' || !KID_SHAPE.test(jwk.kid)) return '?: missing or malformed kid';
  const kid = jwk.kid;
  if (jwk.use !== undefined && jwk.use !== 'sig') return `${kid}: use is not sig`;
  if ('d' in jwk) return `${kid}: a private key is never used from a JWKS`;
  const algorithm = algorithmOf(jwk);
  if (algorithm === null) return `${kid}: not an RS256 or ES256 (P-256) signing key`;
  try {
    // kid/alg/use are not key material; node:crypto reads kty and the key's own fields.
    const key = createPublicKey({ key: jwk as unknown as JsonWebKey, format: 'jwk' });
    if (algorithm === 'RS256' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) return `${kid}: RSA key shorter than 2048 bits`;
    return { kid, algorithm, key, jwk };
  } catch {
    return `${kid}: key does not parse`;
  }
}

function algorithmOf(jwk: JsonWebKeyInput): JwkAlgorithm | null {
  if (jwk.kty === 'RSA' && (jwk.alg === undefined || jwk.alg === 'RS256')) return 'RS256';
  if (jwk.kty === 'EC' && jwk.crv === 'P-256' && (jwk.alg === undefined || jwk.alg === 'ES256')) return 'ES256';
  return null;
}
