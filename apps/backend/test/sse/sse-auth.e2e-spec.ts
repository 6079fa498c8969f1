import { randomBytes, randomUUID } from 'node:crypto';
import type { StreamTicketResponse } from '@notify-gateway/contracts';
import { http } from '../support/http';
import { settle } from '../support/sockets';
import { freshUser, isNotification, mintTicket, notificationsOf, openStream, postNotification, type StreamClient } from '../support/sse';
import { startApp, type RunningApp } from '../support/test-app';
import { tokenFor } from '../support/users';

const GENERIC_401 = { statusCode: 401, code: 'UNAUTHORIZED', message: 'Unauthorized' };

describe('SSE authentication', () => {
  let running: RunningApp;
  const open: StreamClient[] = [];
  const issued: string[] = [];

  beforeAll(async () => {
    running = await startApp();
  });
  afterEach(() => {
    for (const stream of open.splice(0)) stream.close();
  });
  afterAll(() => running.close());

  const stream = async (...args: Parameters<typeof openStream>): Promise<StreamClient> => {
    const client = await openStream(...args);
    open.push(client);
    return client;
  };
  const failuresSince = (count: number): Record<string, unknown>[] => running.logs.securityEvents('AUTHENTICATION_FAILED').slice(count);

  it('issues a single-use ticket of 32 random bytes, only to an authenticated caller', async () => {
    const token = await tokenFor('user@acme.test');
    const response = await http<StreamTicketResponse>(`${running.url}/notifications/stream-ticket`, { method: 'POST', token });
    expect(response.status).toBe(200);
    expect(response.body.expiresIn).toBe(30);
    expect(response.body.expiresIn).toBeLessThanOrEqual(60);
    expect(Buffer.from(response.body.ticket, 'base64url')).toHaveLength(32);
    expect(response.headers.get('cache-control')).toBe('no-store');
    issued.push(response.body.ticket, token);

    const anonymous = await http(`${running.url}/notifications/stream-ticket`, { method: 'POST' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toEqual(GENERIC_401);
  });

  it('refuses a request with no credentials', async () => {
    const before = running.logs.securityEvents('AUTHENTICATION_FAILED').length;
    const refused = await stream(running.url, {});
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual(GENERIC_401);
    expect(failuresSince(before)).toEqual([expect.objectContaining({ transport: 'sse', reason: 'MISSING_TOKEN' })]);
  });

  it('refuses a reused ticket, with the same generic body', async () => {
    const ticket = await mintTicket(running.url, await tokenFor('user@acme.test'));
    issued.push(ticket);
    const first = await stream(running.url, { ticket });
    expect(first.status).toBe(200);
    const before = running.logs.securityEvents('AUTHENTICATION_FAILED').length;
    const again = await stream(running.url, { ticket });
    expect(again.status).toBe(401);
    expect(again.body).toEqual(GENERIC_401);
    expect(failuresSince(before)).toEqual([expect.objectContaining({ transport: 'sse', reason: 'INVALID_TICKET' })]);
  });

  it('refuses a random or malformed ticket', async () => {
    for (const ticket of [randomBytes(32).toString('base64url'), 'short', 'a'.repeat(5000), '../../etc/passwd']) {
      const refused = await stream(running.url, { ticket });
      expect({ ticket: ticket.slice(0, 20), status: refused.status, body: refused.body }).toEqual({ ticket: ticket.slice(0, 20), status: 401, body: GENERIC_401 });
    }
  });

  it("binds a ticket to its user: A's ticket opens A's stream, never B's", async () => {
    const tag = randomUUID();
    const [userA, userB] = await Promise.all([freshUser('admin@acme.test'), freshUser('admin@acme.test')]);
    const admin = await tokenFor('admin@acme.test');
    const ticketOfA = await mintTicket(running.url, userA.token());
    const streamOfA = await stream(running.url, { ticket: ticketOfA });
    expect(streamOfA.status).toBe(200);

    const toB = await postNotification(running.url, admin, { title: `for B ${tag}`, content: 'x', userId: userB.id });
    const toA = await postNotification(running.url, admin, { title: `for A ${tag}`, content: 'x', userId: userA.id });
    await streamOfA.waitFor(isNotification(`for A ${tag}`));
    await settle(300);
    expect(notificationsOf(streamOfA.messages, tag).map((view) => view.id)).toEqual([toA.id]);
    expect(notificationsOf(streamOfA.messages).map((view) => view.id)).not.toContain(toB.id);
  });

  it("refuses another user's ticket presented alongside the caller's own token, and burns it", async () => {
    const ticketOfA = await mintTicket(running.url, await tokenFor('user@acme.test'));
    const tokenOfB = await tokenFor('admin@acme.test');
    const before = running.logs.securityEvents('AUTHENTICATION_FAILED').length;
    const refused = await stream(running.url, { ticket: ticketOfA, token: tokenOfB });
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual(GENERIC_401);
    expect(failuresSince(before)).toEqual([expect.objectContaining({ reason: 'CONFLICTING_CREDENTIALS' })]);
    // Presented once, spent: it no longer opens A's stream either.
    expect((await stream(running.url, { ticket: ticketOfA })).status).toBe(401);
  });

  it('refuses a JWT in the query string, even a valid one, whatever the parameter', async () => {
    const token = await tokenFor('user@acme.test');
    const before = running.logs.securityEvents('AUTHENTICATION_FAILED').length;
    const attempts: Record<string, string>[] = [{ token }, { access_token: token }, { ticket: token }, { foo: token }];
    for (const query of attempts) {
      const refused = await stream(running.url, { query });
      expect({ query: Object.keys(query), status: refused.status, body: refused.body }).toEqual({ query: Object.keys(query), status: 401, body: GENERIC_401 });
    }
    // Even alongside a valid header: the client must learn not to put tokens in URLs.
    expect((await stream(running.url, { token, query: { access_token: token } })).status).toBe(401);
    expect(failuresSince(before).map((entry) => entry.reason)).toEqual(Array(attempts.length + 1).fill('TOKEN_IN_URL'));
    issued.push(token);
  });

  it('refuses a disallowed Origin with 403 ORIGIN_NOT_ALLOWED and no echo, before any credential is looked at', async () => {
    const ticket = await mintTicket(running.url, await tokenFor('user@acme.test'));
    const evil = 'https://evil.example';
    const refused = await stream(running.url, { ticket, origin: evil });
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ statusCode: 403, code: 'ORIGIN_NOT_ALLOWED', message: 'Origin not allowed' });
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    expect(running.logs.securityEvents('ORIGIN_REJECTED').some((entry) => entry.origin === evil)).toBe(true);
    // The ticket was not spent by the refused request.
    expect((await stream(running.url, { ticket })).status).toBe(200);
    const bearer = await stream(running.url, { token: await tokenFor('user@acme.test'), origin: evil });
    expect(bearer.status).toBe(403);
  });

  it('refuses a Bearer token of an inactive user and a tampered token', async () => {
    const inactive = await tokenFor('inactive@acme.test');
    const valid = await tokenFor('user@acme.test');
    const tampered = `${valid.slice(0, -4)}AAAA`;
    for (const token of [inactive, tampered]) {
      const refused = await stream(running.url, { token });
      expect(refused.status).toBe(401);
      expect(refused.body).toEqual(GENERIC_401);
    }
  });

  it('refuses a ticket once the token that asked for it has expired', async () => {
    const ticket = await mintTicket(running.url, await tokenFor('user@acme.test', { expiresIn: 1 }));
    await settle(2100);
    const before = running.logs.securityEvents('AUTHENTICATION_FAILED').length;
    const refused = await stream(running.url, { ticket });
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual(GENERIC_401);
    expect(failuresSince(before)).toEqual([expect.objectContaining({ reason: 'TOKEN_EXPIRED' })]);
  });

  it('never logs a ticket or a token', () => {
    expect(issued.length).toBeGreaterThan(0);
    expect(running.logs.leaksOf(issued)).toEqual([]);
  });
});

describe('SSE tickets expire', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp({ SSE_TICKET_TTL_SEC: '1' });
  });
  afterAll(() => running.close());

  it('refuses an expired ticket', async () => {
    const response = await http<StreamTicketResponse>(`${running.url}/notifications/stream-ticket`, { method: 'POST', token: await tokenFor('user@acme.test') });
    expect(response.body.expiresIn).toBe(1);
    await settle(1200);
    const refused = await openStream(running.url, { ticket: response.body.ticket });
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual(GENERIC_401);
    expect(running.logs.securityEvents('AUTHENTICATION_FAILED').at(-1)).toEqual(expect.objectContaining({ reason: 'INVALID_TICKET', transport: 'sse' }));
  });
});
