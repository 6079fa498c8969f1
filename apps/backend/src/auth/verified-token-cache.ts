/** What a verified token proved, and what proved it. */
export interface VerifiedToken<Claims> {
  claims: Claims;
  /** The token header's `kid` (absent: undefined): the key is looked up by it again on a hit. */
  kid: unknown;
  /** The key (parsed once, so compared by identity) that checked the signature. */
  key: unknown;
  /** The token's `exp` plus the clock tolerance, in seconds: the verification's own deadline. */
  validBeforeSec: number;
}

/**
 * Tokens whose signature and claims were checked, so that the next request with the same token
 * skips the HMAC or RSA/EC check (every REST request and handshake presents one: a few percent of
 * a publish's CPU). A hit is only a hit while the token has not expired, by the same test the
 * verification applies (`floor(now) < exp + tolerance`), and while `kid` still names the very key
 * that checked it: a rotated or removed key sends the token through the full check again.
 * Revocation and the user's state are not cached here; the verifier checks them on every use.
 * Bounded: past `maxEntries` the oldest entry makes room.
 */
export class VerifiedTokenCache<Claims> {
  private readonly entries = new Map<string, VerifiedToken<Claims>>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** The claims of a token verified earlier, if that verification still holds. */
  get(token: string, nowMs: number, currentKey: (kid: unknown) => unknown): Claims | undefined {
    const entry = this.entries.get(token);
    if (entry === undefined) return undefined;
    if (Math.floor(nowMs / 1000) >= entry.validBeforeSec || currentKey(entry.kid) !== entry.key) {
      this.entries.delete(token);
      return undefined;
    }
    return entry.claims;
  }

  set(token: string, entry: VerifiedToken<Claims>): void {
    if (this.maxEntries <= 0) return;
    this.entries.delete(token);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(token, entry);
  }
}
