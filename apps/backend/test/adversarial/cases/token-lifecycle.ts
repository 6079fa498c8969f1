import { createHmac, createPublicKey, createSign, randomUUID } from 'node:crypto';
import { rsaKeys } from '../../support/hostile-tokens';
import { JWKS_KID, validClaims } from '../accounts';
import { hostile, type AttackContext, type HostileCase, type Target } from '../harness';
import { ackOf, GENERIC, settle } from './common';

/**
 * The token lifecycle: keys chosen by kid, revocation and in-band refresh, attacked.
 * The app under attack holds its RSA key twice: as the primary key (no kid) and in a static
 * JWKS under the kid JWKS_KID.
 */

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

interface Doors {
  websocket: string;
  rest: [number, unknown];
  sse: [number, unknown];
  logged: string[];
}

/** The token on each door of `target`; what each answered and the AUTHENTICATION_FAILED reasons logged. */
async function onEveryDoor(ctx: AttackContext, token: string, target: Target = ctx.a): Promise<Doors> {
  ctx.secret(token);
  const mark = ctx.mark();
  const websocket = await ctx.connectError({ token }, target);
  const rest = await ctx.http('/notifications/unread-count', { token }, target);
  const sse = await ctx.sse({ token }, target);
  const logged = ctx.securityEvents('AUTHENTICATION_FAILED', mark).map((entry) => `${String(entry.transport)}:${String(entry.reason)}`);
  return { websocket, rest: [rest.status, rest.body], sse: [sse.status, sse.body], logged };
}

/** Refused with the generic answer on every door; the (shared) log names the rule. */
function refused(reason: string): Doors {
  return {
    websocket: 'UNAUTHORIZED',
    rest: [401, GENERIC[401]],
    sse: [401, GENERIC[401]],
    logged: [`websocket:${reason}`, `http:${reason}`, `sse:${reason}`],
  };
}

/** Signed with the real key, so only the kid can be what refuses it. */
function withKid(userId: string, kid: unknown): string {
  const body = `${b64({ alg: 'RS256', typ: 'JWT', kid })}.${b64(validClaims(userId))}`;
  return `${body}.${signRs256(body)}`;
}

/** node:crypto directly: jsonwebtoken would refuse to write a kid that is not a string. */
function signRs256(body: string): string {
  return createSign('RSA-SHA256').update(body).sign(rsaKeys.privateKey, 'base64url');
}

export const tokenLifecycleCases: HostileCase[] = [
  hostile({
    name: 'forged kid values on a token signed with the real key (path traversal, SQL, 300 characters, a number, an object)',
    category: 'tokens',
    response: 'refused on every door, logged UNKNOWN_KEY; no kid is looked up outside the configured keys',
    expected: {
      pathTraversal: refused('UNKNOWN_KEY'),
      sql: refused('UNKNOWN_KEY'),
      long: refused('UNKNOWN_KEY'),
      number: refused('UNKNOWN_KEY'),
      object: refused('UNKNOWN_KEY'),
    },
    attack: async (ctx) => {
      const { id } = await ctx.account('USER');
      const kids: Record<string, unknown> = {
        pathTraversal: `../../../../etc/passwd`,
        sql: `${JWKS_KID}' OR '1'='1`,
        long: 'k'.repeat(300),
        number: 1,
        object: { $ne: null },
      };
      const answers: Record<string, Doors> = {};
      for (const [name, kid] of Object.entries(kids)) answers[name] = await onEveryDoor(ctx, withKid(id, kid));
      return answers;
    },
  }),
  hostile({
    name: 'HS/RS confusion through a JWKS kid: HS256 with the published RSA key (PEM, JWK, modulus) as the secret',
    category: 'tokens',
    response: 'refused on every door, logged ALGORITHM_MISMATCH (the key is pinned to RS256); the same kid with RS256 is accepted',
    expected: { pem: refused('ALGORITHM_MISMATCH'), jwk: refused('ALGORITHM_MISMATCH'), modulus: refused('ALGORITHM_MISMATCH'), genuine: 'CONNECTED' },
    attack: async (ctx) => {
      const { id } = await ctx.account('USER');
      const jwk = { ...createPublicKey(rsaKeys.publicKey).export({ format: 'jwk' }), kid: JWKS_KID, alg: 'RS256', use: 'sig' };
      const body = `${b64({ alg: 'HS256', typ: 'JWT', kid: JWKS_KID })}.${b64(validClaims(id))}`;
      const hs = (secret: string | Buffer): string => `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
      return {
        pem: await onEveryDoor(ctx, hs(rsaKeys.publicKey)),
        jwk: await onEveryDoor(ctx, hs(JSON.stringify(jwk))),
        modulus: await onEveryDoor(ctx, hs(Buffer.from(String(jwk.n), 'base64url'))),
        genuine: await ctx.connectError({ token: withKid(id, JWKS_KID) }),
      };
    },
  }),
  hostile({
    name: 'a revoked jti (logout on A) replayed on every door of B, and its SSE ticket taken before the logout',
    category: 'tokens',
    response: 'logout 204; then on B: connect_error UNAUTHORIZED, 401, 401, ticket 401; a second logout 401; the user\'s other token still works',
    expected: { logout: 204, onB: refused('TOKEN_REVOKED'), ticket: 401, secondLogout: 401, otherToken: 'CONNECTED' },
    attack: async (ctx) => {
      const account = await ctx.account('USER');
      const token = account.token({ jwtid: randomUUID() });
      const other = account.token({ jwtid: randomUUID() });
      ctx.secret(token, other);
      const ticketReply = await ctx.http('/notifications/stream-ticket', { method: 'POST', token }, ctx.b);
      const ticket = (ticketReply.body as { ticket: string }).ticket;
      ctx.secret(ticket);
      const logout = await ctx.http('/auth/logout', { method: 'POST', token });
      const onB = await onEveryDoor(ctx, token, ctx.b);
      const viaTicket = await ctx.sse({ query: `ticket=${ticket}` }, ctx.b);
      const secondLogout = await ctx.http('/auth/logout', { method: 'POST', token }, ctx.b);
      return { logout: logout.status, onB, ticket: viaTicket.status, secondLogout: secondLogout.status, otherToken: await ctx.connectError({ token: other }, ctx.b) };
    },
  }),
  hostile({
    name: 'auth:refresh with another user\'s valid token',
    category: 'tokens',
    response: 'ack UNAUTHORIZED (generic), notification:session-expiring UNAUTHORIZED, the socket is closed; the other user is unaffected',
    expected: {
      ack: { ok: false, error: { code: 'UNAUTHORIZED', message: 'Unauthorized' } },
      ended: [{ code: 'UNAUTHORIZED' }],
      connected: false,
      victimConnected: true,
      logged: ['refresh: token of another user'],
    },
    attack: async (ctx) => {
      const attacker = await ctx.account('USER');
      const victim = await ctx.account('USER');
      const victimToken = victim.token();
      ctx.secret(victimToken);
      const victimSocket = await ctx.socket({ token: victimToken });
      const socket = await ctx.socket({ token: attacker.token() });
      const ended: unknown[] = [];
      socket.on('notification:session-expiring', (event) => ended.push(event));
      const mark = ctx.mark();
      const ack = await ackOf(socket, 'auth:refresh', { token: victimToken });
      for (let i = 0; i < 40 && socket.connected; i += 1) await settle(25);
      const logged = ctx.securityEvents('AUTHENTICATION_FAILED', mark).map((entry) => String(entry.reason));
      return { ack, ended, connected: socket.connected, victimConnected: victimSocket.connected, logged };
    },
  }),
  hostile({
    name: 'a flood of auth:refresh with a valid token of the same user',
    category: 'tokens',
    response: 'counted against the per-user event budget: at most WS_RATE_LIMIT_POINTS (20) of 30 succeed, the others are refused (RATE_LIMITED) and notification:rate-limit-exceeded is sent',
    expected: { withinBudget: true, refusedBeyond: true, rateLimitEvent: true },
    attack: async (ctx) => {
      const account = await ctx.account('USER');
      const socket = await ctx.socket({ token: account.token() });
      let rateLimitEvent = false;
      socket.on('notification:rate-limit-exceeded', () => {
        rateLimitEvent = true;
      });
      const fresh = account.token();
      ctx.secret(fresh);
      const acks = await Promise.all(Array.from({ length: 30 }, () => ackOf(socket, 'auth:refresh', { token: fresh }).catch(() => 'no ack')));
      const ok = acks.filter((ack) => (ack as { ok?: boolean }).ok === true).length;
      const limited = acks.filter((ack) => (ack as { error?: { code?: string } }).error?.code === 'RATE_LIMITED').length;
      // However the budget is counted (per event or per connection), at least 10 of 30 must not pass.
      return { withinBudget: ok <= 20, refusedBeyond: 30 - ok >= 10 && limited > 0, rateLimitEvent };
    },
  }),
];
