import { hostile, type HostileCase } from '../harness';
import { GENERIC } from './common';

/**
 * The module's own input paths: the demo's recipient list (outside production), which names users
 * by email to an admin and must name none to anyone else, nor cross a tenant.
 */
export const moduleCases: HostileCase[] = [
  hostile({
    name: 'the demo recipient list asked by a USER, a forged token, nobody, and an admin naming another tenant',
    category: 'http',
    response: 'refused: 403 / 401 with the generic bodies; an admin sees only its own tenant, ids and emails only',
    expected: { user: [403, GENERIC[403]], forged: [401, GENERIC[401]], anonymous: [401, GENERIC[401]], admin: { status: 200, onlyOwnTenant: true, fields: ['email', 'id'] } },
    attack: async (ctx) => {
      const user = await ctx.account('USER');
      const admin = await ctx.account('ADMIN');
      const stranger = await ctx.account('USER', 'admin@globex.test');
      const asUser = await ctx.http('/demo/api/users', { token: user.token() });
      const [head, payload] = admin.token().split('.');
      const forged = await ctx.http('/demo/api/users', { token: `${head}.${payload}.${'A'.repeat(43)}` });
      const anonymous = await ctx.http('/demo/api/users');
      const listed = await ctx.http(`/demo/api/users?tenantId=${stranger.tenantId}&take=100000`, { token: admin.token() });
      const rows = Array.isArray(listed.body) ? (listed.body as Record<string, unknown>[]) : [];
      return {
        user: [asUser.status, asUser.body],
        forged: [forged.status, forged.body],
        anonymous: [anonymous.status, anonymous.body],
        admin: {
          status: listed.status,
          onlyOwnTenant: rows.some((row) => row.id === user.id) && !rows.some((row) => row.id === stranger.id),
          fields: [...new Set(rows.flatMap((row) => Object.keys(row)))].sort(),
        },
      };
    },
  }),
];
