import { randomUUID } from 'node:crypto';
import { sql } from '../../support/users';
import { hostile, type HostileCase } from '../harness';
import { NS, type RawEngine } from '../raw';
import { fieldsOf, invalid } from './common';

/**
 * An own `__proto__` key at the top of a create payload (JSON.parse makes it an own property;
 * class-transformer would drop it before whitelisting sees it) is an unknown field like any
 * other: VALIDATION_FAILED naming it, on the socket and on REST, and nothing stored.
 */

let nextAck = 5000;

async function ask(raw: RawEngine, event: string, payloadJson: string): Promise<unknown> {
  const id = (nextAck += 1);
  raw.send(`42${NS},${id}${JSON.stringify([event]).slice(0, -1)},${payloadJson}]`);
  const frame = await raw.waitFor((candidate) => candidate.startsWith(`43${NS},${id}[`), 5000);
  return (JSON.parse(frame.slice(`43${NS},${id}`.length)) as unknown[])[0];
}

async function storedWithTitle(title: string): Promise<string> {
  return (await sql<{ n: string }>('SELECT count(*)::text AS n FROM notifications WHERE title = $1', [title]))[0].n;
}

const polluted = (): boolean => 'polluted' in ({} as Record<string, unknown>) || Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted');

export const unknownKeyCases: HostileCase[] = [
  hostile({
    name: 'a "__proto__" field at the top of a create payload',
    category: 'payloads',
    response: 'VALIDATION_FAILED naming __proto__, like any unknown field (socket ack and REST 400); nothing stored; Object.prototype untouched',
    expected: { socket: invalid('__proto__'), rest: [400, invalid('__proto__')], stored: '0', prototypePolluted: false },
    attack: async (ctx) => {
      const [admin, user] = [await ctx.account('ADMIN'), await ctx.account('USER')];
      const raw = await ctx.joined(admin.token());
      const title = `proto ${randomUUID()}`;
      const json = `{"title":"${title}","content":"c","userId":"${user.id}","__proto__":{"polluted":true,"role":"SUPER_ADMIN"}}`;
      const socket = fieldsOf(await ask(raw, 'notification:create', json));
      const reply = await ctx.http('/notifications', { token: admin.token(), body: json });
      const rest = [reply.status, fieldsOf({ ok: false, error: reply.body })];
      return { socket, rest, stored: await storedWithTitle(title), prototypePolluted: polluted() };
    },
  }),
];
