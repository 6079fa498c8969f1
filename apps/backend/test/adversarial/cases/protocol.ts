import type { Socket as NetSocket } from 'node:net';
import { NotificationService } from '../../../src/notifications/notification.service';
import { engineOf, fillPool, handleCounts, hostile, namespaceOf, type AttackContext, type HostileCase } from '../harness';
import { NS, openRawEngine, poll, pollingHandshake, type RawEngine } from '../raw';
import { fieldsOf, invalid, settle } from './common';

/**
 * Protocol: what an attacker can send below socket.io-client — malformed engine.io and
 * socket.io packets, binary attachments, namespaces, floods, clients that stop reading or
 * stop answering, and connections opened and abandoned in bulk.
 */

/** A wait that never keeps the process alive on its own (a filtered run may leave a background case waiting). */
const sleep = (ms: number): Promise<null> => new Promise((resolve) => setTimeout(() => resolve(null), ms).unref());

/** What the server did within `ms` of the frames: closed the connection, and what it answered. */
async function afterSending(raw: RawEngine, frames: (string | Buffer)[], ms = 1500): Promise<{ closed: boolean; answered: string[] }> {
  const seen = raw.frames.length;
  for (const frame of frames) raw.send(frame);
  await Promise.race([raw.closed, sleep(ms)]);
  return { closed: raw.isClosed(), answered: raw.frames.slice(seen).map(String).filter((frame) => frame !== '2') };
}

const CLOSED = { closed: true, answered: [] as string[] };

/** Joins /notifications as a fresh user, sends `frames`, reports what happened. */
async function joinedThenSend(ctx: AttackContext, frames: (string | Buffer)[]): Promise<{ closed: boolean; answered: string[] }> {
  const user = await ctx.account('USER');
  return afterSending(await ctx.joined(user.token()), frames);
}

function closesCase(
  name: string,
  response: string,
  variants: Record<string, (string | Buffer)[]>,
  joined = true,
  otherwise: Record<string, { closed: boolean; answered: string[] }> = {},
): HostileCase {
  return hostile({
    name,
    category: 'protocol',
    response,
    expected: Object.fromEntries(Object.keys(variants).map((variant) => [variant, otherwise[variant] ?? CLOSED])),
    attack: async (ctx) => {
      const outcome: Record<string, unknown> = {};
      for (const [variant, frames] of Object.entries(variants)) {
        outcome[variant] = joined ? await joinedThenSend(ctx, frames) : await afterSending(await ctx.raw(), frames);
      }
      return outcome;
    },
  });
}

const authTimeout = (ctx: AttackContext): number => ctx.a.running.config.ws.authTimeoutMs;

/**
 * Scheduling slack on top of WS_AUTH_TIMEOUT_MS before a connection counts as "not closed in time".
 * The servers and the clients share the jest process, so a pause of its event loop late in a full
 * run delays both the deadline and the moment a close is seen: in one full CI run 150 of 200 were
 * seen more than 0.5 s late (all closed, no handle left). A deadline that does not fire at all
 * leaves them open until the ping timeout (45 s), far beyond.
 */
const SLACK_MS = 1500;

export const protocolCases: HostileCase[] = [
  closesCase('an event packet with truncated JSON after a valid join', 'disconnect: the connection is closed (parse error), nothing is answered', {
    truncated: [`42${NS},["notification:sync"`],
    unterminatedString: [`42${NS},["notification:sync",{"after":"1}]`],
  }),
  closesCase('engine.io packets that are not what they claim: a bare "4", an unknown type "9", a client-sent ping "2"', 'disconnect: each closes the connection', {
    bareMessage: ['4'],
    unknownType: ['9'],
    clientPing: ['2'],
  }),
  closesCase('reserved event names sent by the client', 'disconnect: socket.io refuses the packet and closes the connection', {
    disconnect: [`42${NS},["disconnect"]`],
    connect: [`42${NS},["connect",{}]`],
    newListener: [`42${NS},["newListener","notification:new"]`],
  }),
  closesCase('events sent before joining any namespace', 'disconnect: the connection is closed unanswered', { event: [`42${NS},["notification:sync",{}]`], ack: [`43${NS},1[{}]`] }, false),
  closesCase(
    'a CONNECT whose auth is not an object',
    'disconnect: an invalid CONNECT payload closes the connection; digits after the comma are read as a packet id, so that CONNECT carries no auth: refused UNAUTHORIZED, then closed at WS_AUTH_TIMEOUT_MS',
    { string: [`40${NS},"token"`], array: [`40${NS},["token"]`], number: [`40${NS},42`] },
    false,
    { number: { closed: true, answered: [`44${NS},{"message":"UNAUTHORIZED"}`] } },
  ),
  closesCase('malformed binary attachments', 'disconnect: each closes the connection; no buffer is held for a packet that never completes', {
    tooManyAttachments: [`4511-${NS},["notification:sync",{"_placeholder":true,"num":0}]`],
    placeholderBeyondAttachments: [`451-${NS},["notification:sync",{"_placeholder":true,"num":5}]`, Buffer.from([1, 2, 3])],
    textWhileAwaitingBinary: [`451-${NS},["notification:sync",{"_placeholder":true,"num":0}]`, `42${NS},["notification:sync",{}]`],
    binaryWithoutPacket: [Buffer.from([1, 2, 3])],
  }),
  hostile({
    name: 'a binary attachment reconstructed into the notification:sync payload',
    category: 'protocol',
    response: 'VALIDATION_FAILED ack (a buffer is not the object the event takes); the socket stays connected',
    expected: { ack: invalid('body'), connected: true },
    attack: async (ctx) => {
      const user = await ctx.account('USER');
      const raw = await ctx.joined(user.token());
      raw.send(`451-${NS},7["notification:sync",{"_placeholder":true,"num":0}]`);
      raw.send(Buffer.from('binary attachment'));
      const ack = await raw.waitFor((frame) => frame.startsWith(`43${NS},7`));
      return { ack: fieldsOf((JSON.parse(ack.slice(`43${NS},7`.length)) as unknown[])[0]), connected: !raw.isClosed() };
    },
  }),
  hostile({
    name: 'a second CONNECT to /notifications with another identity on the same connection',
    category: 'protocol',
    response: 'disconnect: the connection is closed; the second identity is never admitted',
    expected: { closed: true, joinsAnswered: 1 },
    attack: async (ctx) => {
      const [user, admin] = [await ctx.account('USER'), await ctx.account('ADMIN')];
      const raw = await ctx.joined(user.token());
      ctx.secret(admin.token());
      const result = await afterSending(raw, [`40${NS},${JSON.stringify({ token: admin.token() })}`]);
      return { closed: result.closed, joinsAnswered: raw.frames.filter((frame) => String(frame).startsWith(`40${NS},`)).length };
    },
  }),
  hostile({
    name: 'a namespace that does not exist',
    category: 'protocol',
    response: 'connect_error "Invalid namespace" (socket.io\'s own answer); the connection, in no namespace, is closed at WS_AUTH_TIMEOUT_MS',
    expected: { answer: '44/unknown,{"message":"Invalid namespace"}', closedByDeadline: true },
    attack: async (ctx) => {
      const raw = await ctx.raw();
      raw.send('40/unknown,');
      const answer = await raw.waitFor((frame) => frame.startsWith('44/unknown,'));
      const closed = await Promise.race([raw.closed, sleep(authTimeout(ctx) + SLACK_MS)]);
      return { answer, closedByDeadline: closed !== null && closed.afterMs <= authTimeout(ctx) + SLACK_MS };
    },
  }),
  hostile({
    name: 'very long namespace names: 10 KB, and 20 KB (beyond WS_MAX_PAYLOAD_BYTES)',
    category: 'protocol',
    response: '10 KB: connect_error "Invalid namespace"; 20 KB: disconnect with close code 1009 (message too big)',
    expected: { tenKb: { message: 'Invalid namespace' }, twentyKb: { closed: true, code: 1009 } },
    attack: async (ctx) => {
      const ten = await ctx.raw();
      const name = `/${'n'.repeat(10_000)}`;
      ten.send(`40${name},`);
      const answer = await ten.waitFor((frame) => frame.startsWith(`44${name},`));
      const twenty = await ctx.raw();
      twenty.send(`40/${'n'.repeat(20_000)},`);
      const closed = await Promise.race([twenty.closed, sleep(2000)]);
      return { tenKb: JSON.parse(answer.slice(`44${name},`.length)) as unknown, twentyKb: { closed: closed !== null, code: closed?.code } };
    },
  }),
  hostile({
    name: 'a websocket frame beyond WS_MAX_PAYLOAD_BYTES before joining',
    category: 'protocol',
    response: 'disconnect with close code 1009 (message too big), before any parsing',
    expected: { closed: true, code: 1009 },
    attack: async (ctx) => {
      const raw = await ctx.raw();
      raw.send(`42${NS},["notification:sync",{"after":"${'9'.repeat(20_000)}"}]`);
      const closed = await Promise.race([raw.closed, sleep(2000)]);
      return { closed: closed !== null, code: closed?.code };
    },
  }),
  hostile({
    name: 'the default namespace "/" joined without any credential, to hold a connection past the deadline',
    category: 'protocol',
    response: 'refused: no CONNECT to "/" is accepted; the connection is closed at WS_AUTH_TIMEOUT_MS like any that joins no authenticated namespace',
    expected: { joined: false, closedByDeadline: true },
    attack: async (ctx) => {
      const raw = await ctx.raw();
      raw.send('40');
      const answer = await raw.waitFor((frame) => frame.startsWith('40') || frame.startsWith('44'), 2000).catch(() => 'no answer');
      const closed = await Promise.race([raw.closed, sleep(authTimeout(ctx) + SLACK_MS)]);
      return { joined: answer.startsWith('40{'), closedByDeadline: closed !== null && closed.afterMs <= authTimeout(ctx) + SLACK_MS };
    },
  }),
  hostile({
    name: 'leaving /notifications after authenticating, to keep a bare engine.io connection',
    category: 'protocol',
    response: 'disconnect: a connection left in no authenticated namespace is closed within WS_AUTH_TIMEOUT_MS (it no longer counts against any cap)',
    expected: { closedWithinDeadlineOfLeaving: true },
    attack: async (ctx) => {
      const user = await ctx.account('USER');
      const raw = await ctx.joined(user.token());
      await settle(200);
      raw.send(`41${NS},`);
      const leftAt = Date.now();
      await Promise.race([raw.closed, sleep(authTimeout(ctx) + SLACK_MS)]);
      return { closedWithinDeadlineOfLeaving: raw.isClosed() && Date.now() - leftAt <= authTimeout(ctx) + SLACK_MS };
    },
  }),
  hostile({
    name: 'packet flood: 100 events in one burst from one user, split over both instances',
    category: 'protocol',
    response: 'limited: exactly WS_RATE_LIMIT_POINTS (20) answered, the other 80 get RATE_LIMITED acks and a notification:rate-limit-exceeded; the flooder stays connected',
    expected: { ok: 20, rateLimited: 80, other: 0, notified: true, stillConnected: true },
    attack: async (ctx) => {
      const flooder = await ctx.account('USER');
      const onA = await ctx.joined(flooder.token());
      const onB = await ctx.joined(flooder.token(), {}, ctx.b);
      for (let i = 0; i < 50; i += 1) {
        onA.send(`42${NS},${i}["notification:sync",{"limit":1}]`);
        onB.send(`42${NS},${i}["notification:sync",{"limit":1}]`);
      }
      const acks = (raw: RawEngine): string[] => raw.frames.map(String).filter((frame) => frame.startsWith(`43${NS},`));
      const deadline = Date.now() + 8000;
      while (acks(onA).length + acks(onB).length < 100 && Date.now() < deadline) await settle(25);
      const bodies = [...acks(onA), ...acks(onB)].map((frame) => JSON.parse(frame.slice(frame.indexOf('['))) as [{ ok: boolean; error?: { code: string } }]);
      const ok = bodies.filter(([ack]) => ack.ok).length;
      const rateLimited = bodies.filter(([ack]) => ack.error?.code === 'RATE_LIMITED').length;
      const notified = [...onA.frames, ...onB.frames].some((frame) => String(frame).startsWith(`42${NS},["notification:rate-limit-exceeded"`));
      return { ok, rateLimited, other: bodies.length - ok - rateLimited, notified, stillConnected: !onA.isClosed() && !onB.isClosed() };
    },
  }),
  hostile({
    name: 'flood of 2000 events no handler listens to',
    category: 'protocol',
    response:
      'disconnect: unknown events spend the user\'s budget like any other (none is served) and the burst closes the connection over WS_INBOUND_FRAMES_PER_SEC (docs/SECURITY.md lists the findings)',
    expected: { servedFlood: 0, closed: true },
    attack: async (ctx) => {
      const user = await ctx.account('USER');
      const raw = await ctx.joined(user.token());
      for (let i = 0; i < 2000; i += 1) raw.send(`42${NS},${i}["room:join",{"room":"global"}]`);
      await Promise.race([raw.closed, settle(2000)]);
      const served = raw.frames.map(String).filter((frame) => frame.startsWith(`43${NS},`) && frame.includes('"ok":true'));
      return { servedFlood: served.length, closed: raw.isClosed() };
    },
  }),
  hostile({
    name: 'a slow consumer: a socket that never reads while notifications for it keep coming',
    category: 'protocol',
    response:
      'disconnect: the server stops queueing for a socket that does not read — it never holds more than the per-connection bound (WS_MAX_BUFFERED_BYTES) and closes the socket',
    expected: { cutOff: true, peakQueuedWithinBound: true },
    timeoutMs: 40_000,
    attack: async (ctx) => {
      const user = await ctx.account('USER');
      const raw = await ctx.joined(user.token(), { autoPong: false });
      (raw.ws as unknown as { _socket: NetSocket })._socket.pause();
      const connection = engineOf(ctx.a).clients[raw.sid];
      const bound = ctx.a.running.config.ws.maxBufferedBytes;
      const service = ctx.a.running.app.get(NotificationService);
      const big = { title: 'bulk', content: 'y'.repeat(1000), data: { blob: 'x'.repeat(3900) } };
      const messageBytes = 5500;
      const queued = (): number =>
        connection.writeBuffer.reduce((sum, packet) => sum + (typeof packet.data === 'string' ? Buffer.byteLength(packet.data) : 0), 0) +
        (connection.transport.socket?.bufferedAmount ?? 0);
      let peak = 0;
      let published = 0;
      // The kernel's socket buffers take the first megabytes; past them the server queues.
      while (connection.readyState === 'open' && published < 24 * 1024 * 1024 && peak <= 2 * bound) {
        await Promise.all(Array.from({ length: 10 }, () => service.sendToUser(user.id, big)));
        published += 10 * messageBytes;
        peak = Math.max(peak, queued());
      }
      return { cutOff: connection.readyState !== 'open', peakQueuedWithinBound: peak <= bound + messageBytes };
    },
  }),
  hostile({
    name: 'a client that never answers pings, joined with a valid token',
    category: 'protocol',
    response: 'disconnect: closed by the heartbeat after pingInterval + pingTimeout (25 s + 20 s), reason "ping timeout"',
    expected: { reason: 'ping timeout', closedAtHeartbeatDeadline: true },
    background: true,
    timeoutMs: 60_000,
    attack: async (ctx) => {
      const user = await ctx.account('USER');
      const raw = await ctx.joined(user.token(), { autoPong: false });
      const { pingInterval, pingTimeout } = JSON.parse(String(raw.frames[0]).slice(1)) as { pingInterval: number; pingTimeout: number };
      const socket = [...namespaceOf(ctx.a).sockets.values()].find((candidate) => (candidate.conn as unknown as { id: string }).id === raw.sid);
      if (!socket) throw new Error('no server socket for the raw connection');
      const reason = new Promise<string>((resolve) => socket.once('disconnect', resolve));
      const closed = await Promise.race([raw.closed, sleep(pingInterval + pingTimeout + 10_000)]);
      const deadline = pingInterval + pingTimeout;
      return { reason: await Promise.race([reason, sleep(100).then(() => 'still connected')]), closedAtHeartbeatDeadline: closed !== null && closed.afterMs >= deadline - 500 && closed.afterMs <= deadline + 2000 };
    },
  }),
  hostile({
    name: 'a client that never answers pings and never joins',
    category: 'protocol',
    response: 'disconnect: closed by the authentication deadline (WS_AUTH_TIMEOUT_MS), long before any heartbeat',
    expected: { closedAtAuthDeadline: true },
    attack: async (ctx) => {
      const raw = await ctx.raw({ autoPong: false });
      const closed = await Promise.race([raw.closed, sleep(authTimeout(ctx) + SLACK_MS)]);
      return { closedAtAuthDeadline: closed !== null && closed.afterMs >= authTimeout(ctx) - 100 && closed.afterMs <= authTimeout(ctx) + SLACK_MS };
    },
  }),
  hostile({
    name: 'a polling session sent a body that is not engine.io-encoded',
    category: 'protocol',
    response: 'disconnect: the session is closed (a later poll gets engine.io\'s "Session ID unknown")',
    expected: { post: [200, 'ok'], later: [400, '{"code":1,"message":"Session ID unknown"}'] },
    attack: async (ctx) => {
      const { sid } = await pollingHandshake(ctx.a.url);
      if (!sid) throw new Error('no polling session');
      const post = await poll(ctx.a.url, sid, '\u0000\u0001garbage\u001e9{');
      const later = await poll(ctx.a.url, sid);
      ctx.saw(post.text, later.text);
      return { post: [post.status, post.text], later: [later.status, later.text] };
    },
  }),
  hostile({
    name: 'a polling POST beyond WS_MAX_PAYLOAD_BYTES',
    category: 'protocol',
    response: 'refused: 413 with an empty body, and the session is closed',
    expected: { post: [413, ''], later: [400, '{"code":1,"message":"Session ID unknown"}'] },
    attack: async (ctx) => {
      const { sid } = await pollingHandshake(ctx.a.url);
      if (!sid) throw new Error('no polling session');
      const post = await poll(ctx.a.url, sid, `4${'x'.repeat(20_000)}`);
      const later = await poll(ctx.a.url, sid);
      ctx.saw(post.text, later.text);
      return { post: [post.status, post.text], later: [later.status, later.text] };
    },
  }),
  hostile({
    name: 'connection storm: 200 polling handshakes never upgraded and 200 websockets that never join',
    category: 'protocol',
    response:
      'all closed within WS_AUTH_TIMEOUT_MS (1 s, + 1.5 s slack); the engine holds no session of them afterwards and the process\'s open handles are back to (at most) their count before the storm (timers within +2)',
    expected: { websocketsClosedInTime: 200, pollingSessionsLeft: 0, engineClientsBack: true, handlesBack: {} },
    timeoutMs: 30_000,
    attack: async (ctx) => {
      const engine = engineOf(ctx.a);
      await fillPool(ctx.a.running);
      const before = await ctx.harness.control.quiet(() => ({ handles: handleCounts(), engineClients: engine.clientsCount }));
      const sids: string[] = [];
      for (let batch = 0; batch < 4; batch += 1) {
        const handshakes = await Promise.all(Array.from({ length: 50 }, () => pollingHandshake(ctx.a.url)));
        sids.push(...handshakes.map((handshake) => handshake.sid ?? ''));
      }
      const sockets: RawEngine[] = [];
      for (let batch = 0; batch < 4; batch += 1) sockets.push(...(await Promise.all(Array.from({ length: 50 }, () => openRawEngine(ctx.a.url)))));
      ctx.defer(() => sockets.forEach((socket) => socket.destroy()));
      const lastOpened = Date.now();
      await Promise.race([Promise.all(sockets.map((socket) => socket.closed)), sleep(authTimeout(ctx) + SLACK_MS)]);
      const websocketsClosedInTime = (await Promise.all(sockets.map((socket) => Promise.race([socket.closed, sleep(0)])))).filter(
        (closed) => closed !== null && closed.afterMs <= authTimeout(ctx) + SLACK_MS,
      ).length;
      await sleep(Math.max(0, lastOpened + authTimeout(ctx) + SLACK_MS - Date.now()));
      const pollingSessionsLeft = sids.filter((sid) => sid in engine.clients).length;
      // A leak shows as handles left over (hundreds: one per connection of the storm). Fewer is no
      // leak (a pool's idle connection may close meanwhile), and an app timer armed meanwhile is +1 or 2.
      // A socket still shutting down at the instant of a snapshot (TCPSocketWrap + SimpleShutdownWrap)
      // is gone a moment later: the count is read again, a few times, before anything counts as left over.
      const excessOver = (counts: Record<string, number>): Record<string, number> => {
        const types = [...new Set([...Object.keys(before.handles), ...Object.keys(counts)])];
        return Object.fromEntries(
          types
            .map((type): [string, number] => [type, (counts[type] ?? 0) - (before.handles[type] ?? 0)])
            .filter(([type, delta]) => delta > (type === 'Timeout' ? 2 : 0)),
        );
      };
      let after = await ctx.harness.control.quiet(() => ({ handles: handleCounts(), engineClients: engine.clientsCount }));
      for (let look = 0; look < 5 && Object.keys(excessOver(after.handles)).length > 0; look += 1) {
        await sleep(200);
        after = await ctx.harness.control.quiet(() => ({ handles: handleCounts(), engineClients: engine.clientsCount }));
      }
      const handlesBack = excessOver(after.handles);
      return { websocketsClosedInTime, pollingSessionsLeft, engineClientsBack: after.engineClients === before.engineClients, handlesBack };
    },
  }),
];
