import type { NotificationView } from '@notify-gateway/contracts';
import { UserAccountService } from '../../../src/users/user-account.service';
import type { ClientSocket } from '../../support/sockets';
import { hostile, type AttackContext, type HostileCase } from '../harness';
import type { SseClient } from '../http';
import { ackOf, GENERIC, settle } from './common';

/**
 * User state on live sessions (docs/SECURITY.md lists the finding): a role taken away must be taken away from
 * the sessions that are already open, on both instances and both transports, at once — not at
 * the token's `exp`.
 */

const FORBIDDEN_ACK = { ok: false, error: { code: 'FORBIDDEN', message: 'Forbidden' } };

function titlesOn(socket: ClientSocket): string[] {
  const titles: string[] = [];
  socket.on('notification:new', (view: NotificationView) => titles.push(view.title));
  return titles;
}

const streamTitles = (stream: SseClient): string[] =>
  stream.messages.filter((message) => message.event === 'notification:new').map((message) => (message.data as NotificationView).title);

/** Creates over the socket until the server refuses (the change travels between instances); the last ack. */
async function createUntilRefused(socket: ClientSocket, tag: string): Promise<unknown> {
  let ack: unknown;
  for (let attempt = 0; attempt < 10; attempt += 1) {
    ack = await ackOf(socket, 'notification:create', { title: `${tag} attempt ${attempt}`, content: 'c', scope: 'TENANT' });
    if ((ack as { ok?: boolean }).ok === false) return ack;
    await settle(100);
  }
  return ack;
}

async function tenantItemsInSync(socket: ClientSocket): Promise<number | string> {
  const ack = (await ackOf(socket, 'notification:sync', { limit: 100 })) as { ok: boolean; notifications?: NotificationView[] };
  if (!ack.ok || !ack.notifications) return `sync failed: ${JSON.stringify(ack)}`;
  return ack.notifications.filter((view) => view.scope === 'TENANT').length;
}

export const userStateCases: HostileCase[] = [
  hostile({
    name: 'an ADMIN demoted to USER while connected (socket on A and B, SSE on B) keeps no tenant power',
    category: 'tokens',
    response: 'FORBIDDEN ack on both instances and 403; no TENANT broadcast live or in sync; the sessions stay and still get their own notifications',
    expected: {
      createdWhileAdmin: true,
      createOnB: FORBIDDEN_ACK,
      createOnA: FORBIDDEN_ACK,
      rest: [403, GENERIC[403]],
      tenantBroadcastAfter: { socketA: 0, socketB: 0, streamB: 0 },
      ownNotificationAfter: { socketA: 1, socketB: 1, streamB: 1 },
      tenantItemsInSync: { A: 0, B: 0 },
    },
    attack: async (ctx: AttackContext) => {
      const [demoted, colleague] = [await ctx.account('ADMIN'), await ctx.account('ADMIN')];
      const token = demoted.token();
      const [onA, onB] = [await ctx.socket({ token }, ctx.a), await ctx.socket({ token }, ctx.b)];
      const [titlesA, titlesB] = [titlesOn(onA), titlesOn(onB)];
      const stream = await ctx.sse({ token }, ctx.b);
      const tag = `demotion ${demoted.id}`;

      const before = (await ackOf(onB, 'notification:create', { title: `${tag} while admin`, content: 'c', scope: 'TENANT' })) as { ok: boolean };
      await stream.until((messages) => messages.some((message) => message.event === 'notification:new'), 3000).catch(() => undefined);

      await ctx.a.running.app.get(UserAccountService).changeRole(demoted.id, 'USER');

      const createOnB = await createUntilRefused(onB, tag);
      const createOnA = await ackOf(onA, 'notification:create', { title: `${tag} on A`, content: 'c', scope: 'TENANT' });
      const rest = await ctx.http('/notifications', { token, body: { title: `${tag} rest`, content: 'c', scope: 'TENANT' } }, ctx.b);

      const broadcast = `${tag} tenant broadcast after`;
      const own = `${tag} own notification after`;
      await ctx.http('/notifications', { token: colleague.token(), body: { title: broadcast, content: 'c', scope: 'TENANT' } });
      await ctx.http('/notifications', { token: colleague.token(), body: { title: own, content: 'c', userId: demoted.id } });
      await stream.until((messages) => messages.some((message) => (message.data as NotificationView | undefined)?.title === own), 3000).catch(() => undefined);
      await settle(300);
      const count = (titles: string[], title: string): number => titles.filter((candidate) => candidate === title).length;
      return {
        createdWhileAdmin: before.ok,
        createOnB,
        createOnA,
        rest: [rest.status, rest.body],
        tenantBroadcastAfter: { socketA: count(titlesA, broadcast), socketB: count(titlesB, broadcast), streamB: count(streamTitles(stream), broadcast) },
        ownNotificationAfter: { socketA: count(titlesA, own), socketB: count(titlesB, own), streamB: count(streamTitles(stream), own) },
        tenantItemsInSync: { A: await tenantItemsInSync(onA), B: await tenantItemsInSync(onB) },
      };
    },
  }),
];
