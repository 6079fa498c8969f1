import { hostile, type HostileCase } from '../harness';
import { GENERIC } from './common';

/**
 * The module's own input paths: the demo's recipient lookup (outside production), which turns an
 * email into a user id for an admin, and for nobody else, nor across a tenant.
 */
export const moduleCases: HostileCase[] = [
  hostile({
    name: 'the demo recipient lookup asked by a USER, a forged token, nobody, across a tenant and with junk',
    category: 'http',
    response: 'refused: 403 / 401 / 404 / 400 with the generic bodies; an admin of the tenant gets the id and email only',
    expected: {
      user: [403, GENERIC[403]],
      forged: [401, GENERIC[401]],
      anonymous: [401, GENERIC[401]],
      otherTenant: [404, GENERIC[404]],
      junk: [400, 'VALIDATION_FAILED'],
      notAnEmail: [400, 'VALIDATION_FAILED'],
      own: [200, ['email', 'id'], true],
    },
    attack: async (ctx) => {
      const user = await ctx.account('USER');
      const admin = await ctx.account('ADMIN');
      const stranger = await ctx.account('USER', 'admin@globex.test');
      const lookup = (email: string, extra = ''): string => `/demo/api/recipient?email=${encodeURIComponent(email)}${extra}`;
      const asUser = await ctx.http(lookup(admin.email), { token: user.token() });
      const [head, payload] = admin.token().split('.');
      const forged = await ctx.http(lookup(user.email), { token: `${head}.${payload}.${'A'.repeat(43)}` });
      const anonymous = await ctx.http(lookup(user.email));
      const otherTenant = await ctx.http(lookup(stranger.email), { token: admin.token() });
      const junk = await ctx.http(lookup(user.email, `&tenantId=${stranger.tenantId}`), { token: admin.token() });
      const notAnEmail = await ctx.http(lookup(`%' OR 1=1 --`), { token: admin.token() });
      const own = await ctx.http(lookup(user.email.toUpperCase()), { token: admin.token() });
      const code = (body: unknown): unknown => (body as { code?: string }).code;
      return {
        user: [asUser.status, asUser.body],
        forged: [forged.status, forged.body],
        anonymous: [anonymous.status, anonymous.body],
        otherTenant: [otherTenant.status, otherTenant.body],
        junk: [junk.status, code(junk.body)],
        notAnEmail: [notAnEmail.status, code(notAnEmail.body)],
        own: [own.status, Object.keys(own.body as object).sort(), (own.body as { id?: string }).id === user.id],
      };
    },
  }),
];
