import type { NotificationView } from '@notify-gateway/contracts';
import { sql } from '../../support/users';
import { hostile, type AttackContext, type HostileCase } from '../harness';
import { ackOf, GENERIC } from './common';

/**
 * Read watermarks (issue 20): mark-all-read moves only the caller's own watermarks, of the streams
 * the caller reads, to their heads; nothing a client sends names a user, a stream or an offset.
 */

const unread = async (ctx: AttackContext, token: string): Promise<number> =>
  ((await ctx.http('/notifications/unread-count', { token })).body as { count: number }).count;

const marksOf = async (userId: string): Promise<string[]> =>
  (await sql<{ stream: string }>('SELECT stream FROM notification_read_marks WHERE user_id = $1 ORDER BY stream', [userId])).map((row) => row.stream);

export const readStateCases: HostileCase[] = [
  hostile({
    name: "read-all with a body naming another user, the tenant's stream and a huge offset (REST and socket)",
    category: 'payloads',
    response:
      "REST ignores the body and moves only the caller's own user-stream watermark; the socket event is refused VALIDATION_FAILED; the admin's unread count and watermarks are untouched",
    expected: { rest: 200, socket: 'VALIDATION_FAILED', callerMarks: ['own user stream'], victimMarks: [], victimUnreadUnchanged: true },
    attack: async (ctx) => {
      const [victim, attacker, publisher] = [await ctx.account('ADMIN'), await ctx.account('USER'), await ctx.account('ADMIN')];
      await ctx.http('/notifications', { token: publisher.token(), body: { title: 'for the tenant', content: 'x', scope: 'TENANT' } });
      await ctx.http('/notifications', { token: publisher.token(), body: { title: 'for the attacker', content: 'x', userId: attacker.id } });
      const before = await unread(ctx, victim.token());
      const forged = { userId: victim.id, stream: `tenant:${victim.tenantId}`, streams: [`user:${victim.id}`], epoch: 'abcdefgh', offset: '9223372036854775807' };
      const rest = await ctx.http('/notifications/read-all', { token: attacker.token(), body: forged });
      const socket = await ctx.socket({ token: attacker.token() });
      const ack = (await ackOf(socket, 'notification:mark-all-read', forged)) as { error?: { code: string } };
      const callerMarks = (await marksOf(attacker.id)).map((stream) => (stream === `user:${attacker.id}` ? 'own user stream' : stream));
      return {
        rest: rest.status,
        socket: ack.error?.code,
        callerMarks,
        victimMarks: await marksOf(victim.id),
        victimUnreadUnchanged: (await unread(ctx, victim.token())) === before,
      };
    },
  }),
  hostile({
    name: "mark-read of another tenant's notification whose offset lies under the caller's own watermark",
    category: 'tokens',
    response: "NOT_FOUND ack and 404: the watermark applies to the caller's streams only, after the visibility check; the owner's notification stays unread",
    expected: { socket: { ok: false, error: { code: 'NOT_FOUND', message: 'Not found' } }, rest: [404, GENERIC[404]], readRows: '0', ownerUnread: 1 },
    attack: async (ctx) => {
      const [owner, ownerAdmin, intruder, intruderAdmin] = [await ctx.account('USER'), await ctx.account('ADMIN'), await ctx.account('USER', 'user@globex.test'), await ctx.account('ADMIN', 'admin@globex.test')];
      // The intruder's own stream runs ahead (offsets 1..3), then its watermark moves to 3.
      for (let i = 0; i < 3; i += 1) await ctx.http('/notifications', { token: intruderAdmin.token(), body: { title: `own ${i}`, content: 'x', userId: intruder.id } });
      await ctx.http('/notifications/read-all', { token: intruder.token(), body: {} });
      const created = await ctx.http('/notifications', { token: ownerAdmin.token(), body: { title: 'private to acme', content: 'x', userId: owner.id } });
      const { id } = created.body as NotificationView;
      const socket = await ctx.socket({ token: intruder.token() });
      const ack = await ackOf(socket, 'notification:mark-read', { notificationId: id });
      const rest = await ctx.http(`/notifications/${id}/read`, { method: 'PATCH', token: intruder.token() });
      const reads = await sql<{ n: string }>('SELECT count(*)::text AS n FROM notification_reads WHERE notification_id = $1', [id]);
      return { socket: ack, rest: [rest.status, rest.body], readRows: reads[0]?.n, ownerUnread: await unread(ctx, owner.token()) };
    },
  }),
];
