import { randomUUID } from 'node:crypto';
import type { NotificationPage, NotificationView } from '@notify-gateway/contracts';
import { sql } from '../../support/users';
import { hostile, type AttackContext, type HostileCase } from '../harness';
import { NS, type RawEngine } from '../raw';
import { fieldsOf, invalid } from './common';

/**
 * Delivery streams: positions (REST `?position=`, sync `position`, SSE Last-Event-ID) that are
 * not positions or name what the caller does not read; idempotency keys that are not keys or
 * belong to someone else; batches that are not batches. Nothing stored, nothing leaked.
 */

let nextAck = 5000;
async function ask(raw: RawEngine, event: string, payloadJson: string): Promise<unknown> {
  const id = (nextAck += 1);
  raw.send(`42${NS},${id}${JSON.stringify([event]).slice(0, -1)},${payloadJson}]`);
  const frame = await raw.waitFor((candidate) => candidate.startsWith(`43${NS},${id}[`), 5000);
  return (JSON.parse(frame.slice(`43${NS},${id}`.length)) as unknown[])[0];
}

const storedTitled = async (prefix: string): Promise<number> => (await sql<{ n: number }>('SELECT count(*)::int AS n FROM notifications WHERE title LIKE $1', [`${prefix}%`]))[0]?.n ?? -1;

const BAD_POSITIONS = [
  'abc',
  'u..1',
  'u.abcdEFGH12.',
  'u.abcdEFGH12.01',
  'u.abcdEFGH12.-1',
  'u.abcdEFGH12.9223372036854775808',
  'u.abcdEFGH12.1_u.abcdEFGH12.2',
  'u.abcdEFGH12.1_t.abcdEFGH12.1_g.abcdEFGH12.1_u.abcdEFGH12.1',
  'u.abcd%2FGH12.1',
  'u.abcdEFGH12.1%0Aid: 7',
  'u.' + 'A'.repeat(150) + '.1',
  'user:00000000-0000-4000-8000-000000000000.abcdEFGH12.1',
];

async function ownPosition(ctx: AttackContext, token: string): Promise<{ epoch: string; offset: string }> {
  const latest = (await ctx.http('/notifications?limit=1', { token })).body as NotificationPage;
  const own = latest.streams?.[0];
  if (!own) throw new Error('the latest page names no stream');
  return { epoch: own.epoch, offset: own.offset };
}

export const streamCases: HostileCase[] = [
  hostile({
    name: 'positions that are not positions on GET /notifications?position=',
    category: 'http',
    response: '400 VALIDATION_FAILED naming position for each; position with after is refused too',
    expected: { statuses: BAD_POSITIONS.map(() => 400), fields: ['position'], withAfter: 400 },
    attack: async (ctx) => {
      const user = await ctx.account('USER');
      const statuses: number[] = [];
      let fields: string[] = [];
      for (const position of BAD_POSITIONS) {
        const reply = await ctx.http(`/notifications?position=${encodeURIComponent(position).replace(/%25/g, '%')}`, { token: user.token() });
        statuses.push(reply.status);
        fields = [...new Set((reply.body as { errors?: { field: string }[] }).errors?.map((error) => error.field) ?? [])];
      }
      const own = await ownPosition(ctx, user.token());
      const withAfter = (await ctx.http(`/notifications?position=u.${own.epoch}.0&after=0`, { token: user.token() })).status;
      return { statuses, fields, withAfter };
    },
  }),
  hostile({
    name: 'forged epochs and offsets in a position, and kinds the caller does not read',
    category: 'payloads',
    response: 'ok: a forged epoch or an offset past the head is a reset (EPOCH_CHANGED / AHEAD_OF_STREAM), never a replay; a global or tenant entry from a USER is ignored',
    expected: { forgedEpoch: ['EPOCH_CHANGED'], ahead: ['AHEAD_OF_STREAM'], foreignKinds: { streams: 1, notifications: 0 } },
    attack: async (ctx) => {
      const [user, admin] = [await ctx.account('USER'), await ctx.account('ADMIN')];
      await ctx.http('/notifications', { token: admin.token(), body: { title: 'for reset', content: 'c', userId: user.id } });
      await ctx.http('/notifications', { token: admin.token(), body: { title: 'tenant only', content: 'c', scope: 'TENANT' } });
      const own = await ownPosition(ctx, user.token());
      const raw = await ctx.joined(user.token());
      const reasons = (ack: unknown): string[] => ((ack as { reset?: { reason: string }[] }).reset ?? []).map((item) => item.reason);
      const forgedEpoch = reasons(await ask(raw, 'notification:sync', JSON.stringify({ position: `u.ZZZZzzzz99.0` })));
      const ahead = reasons(await ask(raw, 'notification:sync', JSON.stringify({ position: `u.${own.epoch}.9000000000` })));
      const foreign = (await ask(raw, 'notification:sync', JSON.stringify({ position: `u.${own.epoch}.${own.offset}_t.${own.epoch}.0_g.${own.epoch}.0` }))) as { streams: unknown[]; notifications: unknown[] };
      return { forgedEpoch, ahead, foreignKinds: { streams: foreign.streams.length, notifications: foreign.notifications.length } };
    },
  }),
  hostile({
    name: 'structured positions that are not positions on notification:sync',
    category: 'payloads',
    response: 'VALIDATION_FAILED naming position; another user\'s stream named in full is ignored, not read',
    expected: {
      number: invalid('position'),
      object: invalid('position'),
      tooMany: invalid('position'),
      extraKey: invalid('position'),
      numberOffset: invalid('position'),
      badStream: invalid('position'),
      otherUsersStream: { streams: 0, notifications: 0 },
    },
    attack: async (ctx) => {
      const [user, victim, admin] = [await ctx.account('USER'), await ctx.account('USER'), await ctx.account('ADMIN')];
      await ctx.http('/notifications', { token: admin.token(), body: { title: 'victim only', content: 'c', userId: victim.id } });
      const raw = await ctx.joined(user.token());
      const entry = { stream: `user:${user.id}`, epoch: 'abcdEFGH12', offset: '0' };
      const sync = async (position: unknown): Promise<unknown> => fieldsOf(await ask(raw, 'notification:sync', JSON.stringify({ position })));
      const other = (await ask(raw, 'notification:sync', JSON.stringify({ position: [{ stream: `user:${victim.id}`, epoch: 'abcdEFGH12', offset: '0' }] }))) as { streams: unknown[]; notifications: unknown[] };
      return {
        number: await sync(5),
        object: await sync({ stream: entry.stream }),
        tooMany: await sync([entry, entry, entry, entry]),
        extraKey: await sync([{ ...entry, __proto__: 'x', extra: 1 }]),
        numberOffset: await sync([{ ...entry, offset: 0 }]),
        badStream: await sync([{ ...entry, stream: 'user:../../etc/passwd' }]),
        otherUsersStream: { streams: other.streams.length, notifications: other.notifications.length },
      };
    },
  }),
  hostile({
    name: 'Idempotency-Key headers that are not keys',
    category: 'http',
    response: '400 VALIDATION_FAILED for each (too long, spaces, control characters, Latin-1, SQL, empty, a repeated header joined by a comma), nothing stored',
    expected: { statuses: [400, 400, 400, 400, 400, 400, 400], stored: 0 },
    attack: async (ctx) => {
      const [admin, user] = [await ctx.account('ADMIN'), await ctx.account('USER')];
      const title = `badkey ${randomUUID()}`;
      ctx.sent(title);
      const statuses: number[] = [];
      for (const key of ['k'.repeat(129), 'two words', 'tab\there', 'cl\u00e9', '', "'; DROP TABLE notifications; --", 'a, b']) {
        statuses.push((await ctx.http('/notifications', { token: admin.token(), body: { title, content: 'c', userId: user.id }, headers: { 'idempotency-key': key } })).status);
      }
      return { statuses, stored: await storedTitled(title) };
    },
  }),
  hostile({
    name: "another publisher's idempotency key",
    category: 'tokens',
    response: "201 with a notification of the caller's own: a key never hands out someone else's notification",
    expected: { status: 201, sameId: false, ownTenant: true },
    attack: async (ctx) => {
      const [victimAdmin, victim, intruder] = [await ctx.account('ADMIN'), await ctx.account('USER'), await ctx.account('ADMIN', 'admin@globex.test')];
      const key = `shared-${randomUUID()}`;
      const body = { title: 'keyed', content: 'c', scope: 'TENANT' };
      const original = (await ctx.http('/notifications', { token: victimAdmin.token(), body: { ...body, userId: victim.id, scope: 'USER' }, headers: { 'idempotency-key': key } })).body as NotificationView;
      const reply = await ctx.http('/notifications', { token: intruder.token(), body, headers: { 'idempotency-key': key } });
      const view = reply.body as NotificationView;
      return { status: reply.status, sameId: view.id === original.id, ownTenant: view.stream === `tenant:${intruder.tenantId}` };
    },
  }),
  hostile({
    name: 'batches that are not batches',
    category: 'payloads',
    response: '400 VALIDATION_FAILED (413 past HTTP_BATCH_MAX_BODY_BYTES, 409 for one key with two bodies); nothing of any refused batch is stored',
    expected: { notArray: 400, empty: 400, tooMany: 400, nullItem: 400, extraField: 400, badKey: 400, keyTwice: 409, huge: 413, stored: 0 },
    attack: async (ctx) => {
      const [admin, user] = [await ctx.account('ADMIN'), await ctx.account('USER')];
      const tag = `badbatch ${randomUUID()}`;
      ctx.sent(tag);
      const item = (i: number, extra: Record<string, unknown> = {}) => ({ title: `${tag} ${i}`, content: 'c', userId: user.id, ...extra });
      const batch = async (body: unknown): Promise<number> => (await ctx.http('/notifications/batch', { token: admin.token(), body })).status;
      return {
        notArray: await batch({ items: { 0: item(0) } }),
        empty: await batch({ items: [] }),
        tooMany: await batch({ items: Array.from({ length: 501 }, (_, i) => item(i)) }),
        nullItem: await batch({ items: [item(0), null] }),
        extraField: await batch({ items: [item(0), item(1, { createdById: admin.id })] }),
        badKey: await batch({ items: [item(0), item(1, { idempotencyKey: 'no spaces allowed' })] }),
        keyTwice: await batch({ items: [item(0, { idempotencyKey: `k-${tag.length}` }), item(1, { idempotencyKey: `k-${tag.length}` })] }),
        huge: await batch({ items: Array.from({ length: 300 }, (_, i) => item(i, { data: { blob: 'x'.repeat(4000) } })) }),
        stored: await storedTitled(tag),
      };
    },
  }),
];
