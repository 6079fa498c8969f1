import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { sign } from 'jsonwebtoken';
import type { NotificationView } from '@notify-gateway/contracts';
import { rsaKeys, unsigned } from '../../support/hostile-tokens';
import { sql } from '../../support/users';
import { AUDIENCE, deleteAccount, ISSUER, signFor, validClaims } from '../accounts';
import { hostile, type AttackContext, type HostileCase } from '../harness';
import { ackOf, GENERIC, settle } from './common';

/**
 * Tokens: every way of forging, bending or borrowing a credential, tried on the three doors
 * (the socket.io handshake, REST, the SSE stream). The app under attack verifies RS256 with a
 * pinned issuer and audience.
 */

const attacker = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
const now = (): number => Math.floor(Date.now() / 1000);
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

interface DoorAnswers {
  websocket: string;
  rest: [number, unknown];
  sse: [number, unknown];
  /** `transport:reason` of the AUTHENTICATION_FAILED lines, in order. */
  logged: string[];
}

/** The token on each door, in turn; what each door answered and what the security log says. */
async function onEveryDoor(ctx: AttackContext, token: string): Promise<DoorAnswers> {
  ctx.secret(token);
  const mark = ctx.mark();
  const websocket = await ctx.connectError({ token });
  const rest = await ctx.http('/notifications/unread-count', { token });
  const sse = await ctx.sse({ token });
  const logged = ctx.securityEvents('AUTHENTICATION_FAILED', mark).map((entry) => `${String(entry.transport)}:${String(entry.reason)}`);
  return { websocket, rest: [rest.status, rest.body], sse: [sse.status, sse.body], logged };
}

/** Refused on every door with the generic answer; the log names the rule that refused it. */
function refused(reason: string): DoorAnswers {
  return {
    websocket: 'UNAUTHORIZED',
    rest: [401, GENERIC[401]],
    sse: [401, GENERIC[401]],
    logged: [`websocket:${reason}`, `http:${reason}`, `sse:${reason}`],
  };
}

async function variants<K extends string>(ctx: AttackContext, tokens: Record<K, string>): Promise<Record<K, DoorAnswers>> {
  const answers = {} as Record<K, DoorAnswers>;
  for (const [name, token] of Object.entries(tokens) as [K, string][]) answers[name] = await onEveryDoor(ctx, token);
  return answers;
}

function tokenCase(name: string, reason: string, forge: (ctx: AttackContext) => Promise<string>): HostileCase {
  return hostile({
    name,
    category: 'tokens',
    response: `refused: connect_error UNAUTHORIZED, 401, 401 (logged ${reason})`,
    expected: refused(reason),
    attack: async (ctx) => onEveryDoor(ctx, await forge(ctx)),
  });
}

function tokenVariantsCase(name: string, reasons: Record<string, string>, forge: (ctx: AttackContext) => Promise<Record<string, string>>): HostileCase {
  return hostile({
    name,
    category: 'tokens',
    response: `refused on every door: ${Object.entries(reasons)
      .map(([variant, reason]) => `${variant} → ${reason}`)
      .join(', ')}`,
    expected: Object.fromEntries(Object.entries(reasons).map(([variant, reason]) => [variant, refused(reason)])),
    attack: async (ctx) => variants(ctx, await forge(ctx)),
  });
}

export const tokenCases: HostileCase[] = [
  tokenVariantsCase(
    'alg "none" in four casings, unsigned',
    { none: 'MALFORMED_TOKEN', None: 'MALFORMED_TOKEN', NONE: 'MALFORMED_TOKEN', nOnE: 'MALFORMED_TOKEN' },
    async (ctx) => {
      const { id } = await ctx.account('USER');
      return Object.fromEntries(['none', 'None', 'NONE', 'nOnE'].map((alg) => [alg, unsigned({ alg, typ: 'JWT' }, validClaims(id))]));
    },
  ),
  tokenVariantsCase(
    'alg "none" in four casings, carrying the signature of a real token',
    { none: 'ALGORITHM_MISMATCH', None: 'ALGORITHM_MISMATCH', NONE: 'ALGORITHM_MISMATCH', nOnE: 'ALGORITHM_MISMATCH' },
    async (ctx) => {
      const { token } = await ctx.account('USER');
      const [, payload, signature] = token().split('.');
      return Object.fromEntries(['none', 'None', 'NONE', 'nOnE'].map((alg) => [alg, `${b64({ alg, typ: 'JWT' })}.${payload}.${signature}`]));
    },
  ),
  tokenCase('HS256 signed with the RS256 public key (algorithm confusion)', 'ALGORITHM_MISMATCH', async (ctx) => {
    const { id } = await ctx.account('ADMIN');
    return sign(validClaims(id), rsaKeys.publicKey, { algorithm: 'HS256' });
  }),
  tokenCase('RS256 signed with the attacker\'s own key', 'INVALID_SIGNATURE', async (ctx) => {
    const { id } = await ctx.account('ADMIN');
    return sign(validClaims(id), attacker.privateKey, { algorithm: 'RS256' });
  }),
  tokenVariantsCase(
    '"kid" steering the key lookup (path traversal, SQL), signed with the attacker\'s key',
    // Keys are chosen by kid: a kid that names no configured key is refused before any signature check.
    { pathTraversal: 'UNKNOWN_KEY', sql: 'UNKNOWN_KEY' },
    async (ctx) => {
      const { id } = await ctx.account('USER');
      const forge = (kid: string): string => sign(validClaims(id), attacker.privateKey, { algorithm: 'RS256', header: { alg: 'RS256', kid } });
      return { pathTraversal: forge('../../../../../../dev/null'), sql: forge("x' UNION SELECT 'attacker-key' --") };
    },
  ),
  tokenVariantsCase(
    '"jku" and "x5u" headers pointing at the attacker\'s key set',
    { jku: 'UNSUPPORTED_HEADER', x5u: 'UNSUPPORTED_HEADER' },
    async (ctx) => {
      const { id } = await ctx.account('USER');
      const forge = (header: Record<string, string>): string =>
        sign(validClaims(id), attacker.privateKey, { algorithm: 'RS256', header: { alg: 'RS256', ...header } as never });
      return { jku: forge({ jku: 'https://evil.test/.well-known/jwks.json' }), x5u: forge({ x5u: 'https://evil.test/cert.pem' }) };
    },
  ),
  tokenVariantsCase(
    'the attacker\'s key embedded in the header ("jwk", "x5c")',
    { jwk: 'UNSUPPORTED_HEADER', x5c: 'UNSUPPORTED_HEADER' },
    async (ctx) => {
      const { id } = await ctx.account('USER');
      const jwk = { kty: 'RSA', n: 'attacker-modulus', e: 'AQAB' };
      const forge = (header: Record<string, unknown>): string =>
        sign(validClaims(id), attacker.privateKey, { algorithm: 'RS256', header: { alg: 'RS256', ...header } as never });
      return { jwk: forge({ jwk }), x5c: forge({ x5c: ['MIIBattackercert'] }) };
    },
  ),
  tokenCase('"crit" header on a token signed with the real key', 'UNSUPPORTED_HEADER', async (ctx) => {
    const { id } = await ctx.account('USER');
    return sign(validClaims(id), rsaKeys.privateKey, { algorithm: 'RS256', header: { alg: 'RS256', crit: ['exp'] } as never });
  }),
  tokenCase('no "exp" (signed with the real key)', 'INVALID_CLAIMS', async (ctx) => {
    const { id } = await ctx.account('USER');
    return sign({ sub: id, iat: now() }, rsaKeys.privateKey, { algorithm: 'RS256', issuer: ISSUER, audience: AUDIENCE });
  }),
  tokenCase('"nbf" an hour in the future', 'TOKEN_NOT_YET_VALID', async (ctx) => {
    const { id } = await ctx.account('USER');
    return sign({ ...validClaims(id), nbf: now() + 3600 }, rsaKeys.privateKey, { algorithm: 'RS256' });
  }),
  tokenCase('"iat" an hour in the future', 'INVALID_CLAIMS', async (ctx) => {
    const { id } = await ctx.account('USER');
    return sign({ ...validClaims(id), iat: now() + 3600 }, rsaKeys.privateKey, { algorithm: 'RS256' });
  }),
  tokenCase('expired a minute ago (beyond the clock tolerance)', 'TOKEN_EXPIRED', async (ctx) => {
    const { id } = await ctx.account('USER');
    return sign({ ...validClaims(id), iat: now() - 700, exp: now() - 60 }, rsaKeys.privateKey, { algorithm: 'RS256' });
  }),
  tokenVariantsCase('wrong or missing issuer', { wrong: 'INVALID_CLAIMS', missing: 'INVALID_CLAIMS' }, async (ctx) => {
    const { id } = await ctx.account('USER');
    const { iss: _iss, ...withoutIssuer } = validClaims(id);
    return {
      wrong: sign({ ...validClaims(id), iss: 'https://issuer.evil.test' }, rsaKeys.privateKey, { algorithm: 'RS256' }),
      missing: sign(withoutIssuer, rsaKeys.privateKey, { algorithm: 'RS256' }),
    };
  }),
  tokenVariantsCase(
    'wrong, missing or foreign-only audience',
    { wrong: 'INVALID_CLAIMS', missing: 'INVALID_CLAIMS', listWithoutOurs: 'INVALID_CLAIMS' },
    async (ctx) => {
      const { id } = await ctx.account('USER');
      const { aud: _aud, ...withoutAudience } = validClaims(id);
      return {
        wrong: sign({ ...validClaims(id), aud: 'another-service' }, rsaKeys.privateKey, { algorithm: 'RS256' }),
        missing: sign(withoutAudience, rsaKeys.privateKey, { algorithm: 'RS256' }),
        listWithoutOurs: sign({ ...validClaims(id), aud: ['billing', 'reports'] }, rsaKeys.privateKey, { algorithm: 'RS256' }),
      };
    },
  ),
  tokenVariantsCase(
    '"sub" of another type or shape',
    { number: 'INVALID_CLAIMS', object: 'INVALID_CLAIMS', array: 'INVALID_CLAIMS', email: 'INVALID_CLAIMS', paddedUuid: 'INVALID_CLAIMS', missing: 'INVALID_CLAIMS' },
    async (ctx) => {
      const { id, email } = await ctx.account('USER');
      const withSub = (sub: unknown): string => sign({ ...validClaims(id), sub } as object, rsaKeys.privateKey, { algorithm: 'RS256' });
      const { sub: _sub, ...withoutSub } = validClaims(id);
      return {
        number: withSub(12345),
        object: withSub({ id }),
        array: withSub([id]),
        email: withSub(email),
        paddedUuid: withSub(` ${id} `),
        missing: sign(withoutSub, rsaKeys.privateKey, { algorithm: 'RS256' }),
      };
    },
  ),
  tokenCase('payload swapped to a SUPER_ADMIN, original signature kept', 'INVALID_SIGNATURE', async (ctx) => {
    const [user, root] = [await ctx.account('USER'), await ctx.account('SUPER_ADMIN')];
    const [header, payload, signature] = user.token().split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    return `${header}.${b64({ ...claims, sub: root.id })}.${signature}`;
  }),
  tokenCase('a token larger than JWT_MAX_LENGTH (padding claim)', 'TOKEN_TOO_LARGE', async (ctx) => {
    const { id } = await ctx.account('USER');
    return signFor(id, {}, { pad: 'x'.repeat(6000) });
  }),
  tokenCase('a valid token of a user deleted since it was issued', 'UNKNOWN_USER', async (ctx) => {
    const ghost = await ctx.account('ADMIN');
    const token = ghost.token();
    await deleteAccount(ghost.id);
    return token;
  }),
  tokenCase('a valid token of a deactivated user', 'INACTIVE_USER', async (ctx) => {
    const user = await ctx.account('USER');
    await sql('UPDATE users SET is_active = false WHERE id = $1', [user.id]);
    return user.token();
  }),
  hostile({
    name: 'a valid token in the handshake URL instead of auth (never read from a URL, never logged)',
    category: 'tokens',
    response: 'refused: connect_error UNAUTHORIZED (MISSING_TOKEN); the token appears in no log line',
    expected: { websocket: 'UNAUTHORIZED', logged: ['websocket:MISSING_TOKEN'] },
    attack: async (ctx) => {
      const user = await ctx.account('USER');
      const token = user.token();
      ctx.secret(token);
      const mark = ctx.mark();
      const websocket = await ctx.connectError({ query: { token, access_token: token } });
      return { websocket, logged: ctx.securityEvents('AUTHENTICATION_FAILED', mark).map((entry) => `${String(entry.transport)}:${String(entry.reason)}`) };
    },
  }),
  hostile({
    name: "another tenant's user marks this tenant's notification read (socket and REST)",
    category: 'tokens',
    response: 'NOT_FOUND ack and 404, exactly as for a missing id; the notification stays unread for its owner, who hears nothing',
    expected: { socket: { ok: false, error: { code: 'NOT_FOUND', message: 'Not found' } }, rest: [404, GENERIC[404]], stillUnread: true, ownerHeardRead: 0 },
    attack: async (ctx) => {
      const [victim, victimAdmin, intruder] = [await ctx.account('USER'), await ctx.account('ADMIN'), await ctx.account('USER', 'user@globex.test')];
      const owner = await ctx.socket({ token: victim.token() });
      const heard: unknown[] = [];
      owner.on('notification:read', (payload) => heard.push(payload));
      const created = await ctx.http('/notifications', { token: victimAdmin.token(), body: { title: 'private to acme', content: 'x', userId: victim.id } });
      const { id } = created.body as NotificationView;
      const socket = await ctx.socket({ token: intruder.token() });
      const ack = await ackOf(socket, 'notification:mark-read', { notificationId: id });
      const rest = await ctx.http(`/notifications/${id}/read`, { method: 'PATCH', token: intruder.token() });
      const reads = await sql<{ n: string }>('SELECT count(*)::text AS n FROM notification_reads WHERE notification_id = $1', [id]);
      await settle(150);
      return { socket: ack, rest: [rest.status, rest.body], stillUnread: reads[0].n === '0', ownerHeardRead: heard.length };
    },
  }),
  hostile({
    name: "another tenant's admin creates a notification for this tenant's user (socket and REST)",
    category: 'tokens',
    response: 'NOT_FOUND ack and 404 (a foreign user looks like a missing one); nothing stored, nothing delivered',
    expected: { socket: { ok: false, error: { code: 'NOT_FOUND', message: 'Not found' } }, rest: [404, GENERIC[404]], stored: '0', victimReceived: 0 },
    attack: async (ctx) => {
      const [victim, intruder] = [await ctx.account('USER'), await ctx.account('ADMIN', 'admin@globex.test')];
      const inbox: unknown[] = [];
      (await ctx.socket({ token: victim.token() })).on('notification:new', (view) => inbox.push(view));
      const title = `cross-tenant ${randomUUID()}`;
      const socket = await ctx.socket({ token: intruder.token() });
      const ack = await ackOf(socket, 'notification:create', { title, content: 'phish', userId: victim.id });
      const rest = await ctx.http('/notifications', { token: intruder.token(), body: { title, content: 'phish', userId: victim.id } });
      await settle(150);
      const stored = await sql<{ n: string }>('SELECT count(*)::text AS n FROM notifications WHERE title = $1', [title]);
      return { socket: ack, rest: [rest.status, rest.body], stored: stored[0].n, victimReceived: inbox.length };
    },
  }),
  hostile({
    name: "another tenant's admin broadcasts into this tenant (scope TENANT with this tenantId)",
    category: 'tokens',
    response: "FORBIDDEN ack and 403; this tenant's admins receive nothing",
    expected: { socket: { ok: false, error: { code: 'FORBIDDEN', message: 'Forbidden' } }, rest: [403, GENERIC[403]], victimAdminReceived: 0 },
    attack: async (ctx) => {
      const [victimAdmin, intruder] = [await ctx.account('ADMIN'), await ctx.account('ADMIN', 'admin@globex.test')];
      const inbox: unknown[] = [];
      (await ctx.socket({ token: victimAdmin.token() })).on('notification:new', (view) => inbox.push(view));
      const body = { title: 'tenant takeover', content: 'x', scope: 'TENANT', tenantId: victimAdmin.tenantId };
      const ack = await ackOf(await ctx.socket({ token: intruder.token() }), 'notification:create', body);
      const rest = await ctx.http('/notifications', { token: intruder.token(), body });
      await settle(150);
      return { socket: ack, rest: [rest.status, rest.body], victimAdminReceived: inbox.filter((view) => (view as NotificationView).title === 'tenant takeover').length };
    },
  }),
  hostile({
    name: 'a valid token with too little role: USER creates, ADMIN broadcasts GLOBAL',
    category: 'tokens',
    response: 'FORBIDDEN ack and 403 for both',
    expected: {
      userCreates: { socket: { ok: false, error: { code: 'FORBIDDEN', message: 'Forbidden' } }, rest: [403, GENERIC[403]] },
      adminGlobal: { socket: { ok: false, error: { code: 'FORBIDDEN', message: 'Forbidden' } }, rest: [403, GENERIC[403]] },
    },
    attack: async (ctx) => {
      const [user, admin] = [await ctx.account('USER'), await ctx.account('ADMIN')];
      const attempt = async (token: string, body: Record<string, unknown>) => {
        const ack = await ackOf(await ctx.socket({ token }), 'notification:create', body);
        const rest = await ctx.http('/notifications', { token, body });
        return { socket: ack, rest: [rest.status, rest.body] };
      };
      return {
        userCreates: await attempt(user.token(), { title: 't', content: 'c', userId: user.id }),
        adminGlobal: await attempt(admin.token(), { title: 't', content: 'c', scope: 'GLOBAL' }),
      };
    },
  }),
  hostile({
    name: "another tenant's most privileged user (SUPER_ADMIN) pages through sync and REST from cursor 0",
    category: 'tokens',
    response: "200 / ok, and not one of this tenant's notifications among them",
    expected: { foreignOnSocket: 0, foreignOnRest: 0, pagesRead: true },
    attack: async (ctx) => {
      const [victim, victimAdmin, intruder] = [await ctx.account('USER'), await ctx.account('ADMIN'), await ctx.account('SUPER_ADMIN', 'user@globex.test')];
      const planted = [];
      for (const body of [
        { title: 'acme user', content: 'x', userId: victim.id },
        { title: 'acme tenant', content: 'x', scope: 'TENANT' },
      ]) {
        planted.push(((await ctx.http('/notifications', { token: victimAdmin.token(), body })).body as NotificationView).id);
      }
      const socket = await ctx.socket({ token: intruder.token() });
      const seen = new Set<string>();
      let after = '0';
      let pages = 0;
      for (;;) {
        const ack = (await ackOf(socket, 'notification:sync', { after, limit: 100 })) as { ok: boolean; notifications: NotificationView[]; cursor: string; hasMore: boolean };
        pages += 1;
        for (const view of ack.notifications) seen.add(view.id);
        if (!ack.hasMore || pages > 500) break;
        after = ack.cursor;
      }
      const rest = await ctx.http('/notifications?limit=100', { token: intruder.token() });
      const restIds = ((rest.body as { items: NotificationView[] }).items ?? []).map((view) => view.id);
      return { foreignOnSocket: planted.filter((id) => seen.has(id)).length, foreignOnRest: planted.filter((id) => restIds.includes(id)).length, pagesRead: pages >= 1 && rest.status === 200 };
    },
  }),
];
