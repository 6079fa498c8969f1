import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { AuthFailure } from '../../auth/auth-failure.js';
import type { AuthenticatedUser } from '../../auth/authenticated-user.js';
import { bearerToken } from '../../auth/bearer-token.js';
import { TokenVerifier } from '../../auth/token-verifier.js';
import { StreamTicketStore } from './stream-ticket.store.js';

/** Query parameters that only ever carry long-lived credentials. */
const TOKEN_PARAMS = new Set(['token', 'access_token', 'accesstoken', 'jwt', 'id_token', 'authorization', 'bearer']);
/** A JWS compact serialisation (signature possibly empty, as with alg "none"). */
const JWT_LIKE = /^[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*$/;

/**
 * Who opens a stream: an `Authorization: Bearer` header, or a single-use `?ticket=`. A JWT in
 * the URL (where proxies and browsers log it) is refused even when it is valid. Refusals throw
 * AuthFailure; ConnectionAdmission logs, counts and answers them.
 */
@Injectable()
export class StreamAuthenticator {
  constructor(
    private readonly verifier: TokenVerifier,
    private readonly tickets: StreamTicketStore,
  ) {}

  async authenticate(request: Request): Promise<AuthenticatedUser> {
    const user = await this.resolve(request);
    // Within the verifier's clock tolerance a stream would end as soon as it opened, and the
    // EventSource would retry in a loop: refuse it now, which stops the EventSource.
    if (user.exp * 1000 <= Date.now()) throw new AuthFailure('TOKEN_EXPIRED');
    return user;
  }

  private async resolve(request: Request): Promise<AuthenticatedUser> {
    const query = request.query as Record<string, unknown>;
    if (carriesToken(query)) throw new AuthFailure('TOKEN_IN_URL');
    const header = request.headers.authorization;
    const ticket = query.ticket;
    if (ticket === undefined) return this.verifier.verify(bearerToken(header));
    if (typeof ticket !== 'string') throw new AuthFailure('INVALID_TICKET');
    // Spent as soon as it is presented, even alongside a header: a leaked ticket dies on use.
    const grant = await this.tickets.consume(ticket);
    if (header !== undefined) throw new AuthFailure('CONFLICTING_CREDENTIALS');
    if (!grant) throw new AuthFailure('INVALID_TICKET');
    return this.verifier.verifySession(grant);
  }
}

function carriesToken(query: Record<string, unknown>): boolean {
  return Object.entries(query).some(([name, value]) => TOKEN_PARAMS.has(name.toLowerCase()) || values(value).some(looksLikeToken));
}

function values(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(values);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(values);
  return [];
}

function looksLikeToken(value: string): boolean {
  const trimmed = value.trim();
  return JWT_LIKE.test(trimmed) || /^bearer\s/i.test(trimmed);
}
