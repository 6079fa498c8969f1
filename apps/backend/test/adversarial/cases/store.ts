import type { NotificationPage } from '@notify-gateway/contracts';
import { sql } from '../../support/users';
import { hostile, type HostileCase } from '../harness';
import { NS, type RawEngine } from '../raw';

/**
 * Bounded catch-up (issue 20): a forged position far behind the head, or one whose history was
 * pruned, must not buy a long replay or a partial one, on any transport.
 */

let nextAck = 7000;
async function ask(raw: RawEngine, event: string, payloadJson: string): Promise<unknown> {
  const id = (nextAck += 1);
  raw.send(`42${NS},${id}${JSON.stringify([event]).slice(0, -1)},${payloadJson}]`);
  const frame = await raw.waitFor((candidate) => candidate.startsWith(`43${NS},${id}[`), 5000);
  return (JSON.parse(frame.slice(`43${NS},${id}`.length)) as unknown[])[0];
}

/** Fills a user's stream with `count` rows (offsets 1..count) straight in SQL; returns its epoch. */
async function filledStream(user: { id: string; tenantId: string }, count: number): Promise<string> {
  const stream = `user:${user.id}`;
  const [row] = await sql<{ epoch: string }>(
    `INSERT INTO notification_streams (stream, epoch, last_offset) VALUES ($1, substr(md5(random()::text), 1, 12), $2)
     ON CONFLICT (stream) DO UPDATE SET last_offset = EXCLUDED.last_offset RETURNING epoch`,
    [stream, count],
  );
  await sql(
    `INSERT INTO notifications (id, scope, tenant_id, user_id, title, content, stream, stream_offset)
     SELECT gen_random_uuid(), 'USER', $2::uuid, $3::uuid, 'filler', 'c', $1, g FROM generate_series(1, $4::int) g`,
    [stream, user.tenantId, user.id, count],
  );
  return (row as { epoch: string }).epoch;
}

const reasonsOf = (value: unknown): string[] => ((value as { reset?: { reason: string }[] }).reset ?? []).map((item) => item.reason);
const countOf = (value: unknown, field: 'notifications' | 'items'): number => ((value as Record<string, unknown[] | undefined>)[field] ?? []).length;

export const storeCases: HostileCase[] = [
  hostile({
    name: 'a position from offset 0 of a stream 1,500 long (past CATCH_UP_MAX) on sync, REST and SSE',
    category: 'payloads',
    response: 'reset TOO_FAR_BEHIND with nothing replayed on every transport; the SSE stream stays open and live',
    expected: { sync: { reasons: ['TOO_FAR_BEHIND'], notifications: 0 }, rest: { status: 200, reasons: ['TOO_FAR_BEHIND'], items: 0 }, sse: { status: 200, reasons: ['TOO_FAR_BEHIND'], replayed: 0 } },
    attack: async (ctx) => {
      const user = await ctx.account('USER');
      const epoch = await filledStream(user, 1500);
      const raw = await ctx.joined(user.token());
      const sync = await ask(raw, 'notification:sync', JSON.stringify({ position: `u.${epoch}.0` }));
      const rest = await ctx.http(`/notifications?position=u.${epoch}.0`, { token: user.token() });
      const stream = await ctx.sse({ token: user.token(), headers: { 'last-event-id': `u.${epoch}.0` } });
      await stream.until((messages) => messages.some((message) => message.event === 'notification:reset'));
      const reset = stream.messages.find((message) => message.event === 'notification:reset');
      return {
        sync: { reasons: reasonsOf(sync), notifications: countOf(sync, 'notifications') },
        rest: { status: rest.status, reasons: reasonsOf(rest.body as NotificationPage), items: countOf(rest.body, 'items') },
        sse: { status: stream.status, reasons: reasonsOf(reset?.data), replayed: stream.messages.filter((message) => message.event === 'notification:new').length },
      };
    },
  }),
  hostile({
    name: 'positions into a history with a pruned hole: before the hole, inside it, and everything pruned',
    category: 'payloads',
    response: 'reset PRUNED, never the rows after the hole; a position past the hole is replayed normally',
    expected: { beforeHole: ['PRUNED'], insideHole: ['PRUNED'], pastHole: { reasons: [], notifications: 2 }, allPruned: ['PRUNED'] },
    attack: async (ctx) => {
      const [user, other] = [await ctx.account('USER'), await ctx.account('USER')];
      const epoch = await filledStream(user, 10);
      await sql(`DELETE FROM notifications WHERE stream = $1 AND stream_offset BETWEEN 3 AND 6`, [`user:${user.id}`]);
      const otherEpoch = await filledStream(other, 3);
      await sql(`DELETE FROM notifications WHERE stream = $1`, [`user:${other.id}`]);
      const raw = await ctx.joined(user.token());
      const at = async (offset: number): Promise<unknown> => ask(raw, 'notification:sync', JSON.stringify({ position: `u.${epoch}.${offset}` }));
      const past = await at(8);
      const otherRaw = await ctx.joined(other.token());
      return {
        beforeHole: reasonsOf(await at(1)),
        insideHole: reasonsOf(await at(4)),
        pastHole: { reasons: reasonsOf(past), notifications: countOf(past, 'notifications') },
        allPruned: reasonsOf(await ask(otherRaw, 'notification:sync', JSON.stringify({ position: `u.${otherEpoch}.0` }))),
      };
    },
  }),
];
