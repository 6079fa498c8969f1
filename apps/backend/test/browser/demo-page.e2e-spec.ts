import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type * as ClientModule from '@notify-gateway/client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { freePort } from '../support/ports';
import { http, publish, uniqueTitle } from '../support/http';
import { settle } from '../support/sockets';
import { startApp, type RunningApp } from '../support/test-app';
import { demoUser, tokenFor, type DemoEmail } from '../support/users';
import { buildClientBundle, deliveries, foreignSite, item, launchChromium, logIn, REPO_ROOT, unreadShown, waitForState, type ForeignSite } from './browser';

const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');

/** Runs in the page: the client bundle with a token handed in; returns every state it went through. */
function tryConnect(page: Page, url: string, token: string, transport: 'websocket' | 'polling'): Promise<string[]> {
  return page.evaluate(
    async (input) => {
      const lib = (globalThis as unknown as { NotifyGatewayClient: typeof ClientModule }).NotifyGatewayClient;
      const states: string[] = [];
      const client = lib.createNotificationClient({
        url: input.url,
        transports: [input.transport],
        getToken: () => Promise.resolve(input.token),
        reconnectDelayMs: 200,
        reconnectDelayMaxMs: 400,
      });
      client.on('state', (change) => states.push(change.reason ? `${change.state}:${change.reason}` : change.state));
      for (let waited = 0; waited < 3000 && client.state !== 'live'; waited += 100) await new Promise((done) => setTimeout(done, 100));
      client.close();
      return states;
    },
    { url, token, transport },
  );
}

describe('the demo page in Chromium', () => {
  let port: number;
  let origin: string;
  let server: RunningApp;
  let browser: Browser;
  let context: BrowserContext;
  let adminToken: string;
  let userId: string;

  const start = (): Promise<RunningApp> => startApp({ ALLOWED_ORIGINS: origin }, port);
  const toUser = async (url: string, title: string, email: DemoEmail = 'user@acme.test'): Promise<void> => {
    const target = await demoUser(email);
    const response = await publish(url, adminToken, { title, content: `Hello from the browser test to ${email}.`, scope: 'USER', userId: target.id });
    expect(response.status).toBe(201);
  };

  beforeAll(async () => {
    buildClientBundle();
    port = await freePort();
    // The page is served by the gateway itself: its origin must be in the allowlist.
    origin = `http://127.0.0.1:${port}`;
    server = await start();
    browser = await launchChromium();
    adminToken = await tokenFor('admin@acme.test');
    userId = (await demoUser('user@acme.test')).id;
  }, 120_000);
  beforeEach(async () => {
    context = await browser.newContext();
  });
  afterEach(() => context.close());
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('is served with a CSP that allows only same-origin scripts', async () => {
    const page = await http(`${server.url}/demo`, { origin: null });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    // No inline script: every <script> has a src on this origin.
    expect(page.text).not.toMatch(/<script(?![^>]*\bsrc="\/demo\/)[^>]*>/);
    expect((await http(`${server.url}/demo/notify-gateway-client.js`, { origin: null })).status).toBe(200);
    expect((await http(`${server.url}/demo/..%2F..%2Fpackage.json`, { origin: null })).status).toBe(404);
  });

  it.each(['websocket', 'polling'] as const)('from an allowed origin receives a notification posted through REST, over %s, and marks it read', async (transport) => {
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => message.type() === 'error' && problems.push(message.text()));
    await page.goto(`${server.url}/demo`);
    await logIn(page, 'user@acme.test', transport);
    expect(await page.locator('[data-testid="status"]').textContent()).toBe(`live · ${transport}`);

    const title = uniqueTitle(`browser ${transport}`);
    await toUser(server.url, title);
    await item(page, title).waitFor();
    expect(await deliveries(page, title)).toBe(1);

    const token = await tokenFor('user@acme.test');
    const unread = async (): Promise<number> => (await http<{ count: number }>(`${server.url}/notifications/unread-count`, { token })).body.count;
    const shows = (count: number): Promise<void> => page.locator('[data-testid="unread-count"]', { hasText: new RegExp(`^${count}$`) }).waitFor();
    await shows(await unread());
    const before = await unreadShown(page);
    await item(page, title).locator('.mark-read').click();
    await shows(before - 1);
    expect(await unread()).toBe(before - 1);
    expect(await item(page, title).getAttribute('class')).toContain('read');

    // The session used the transport under test. A browser sends Origin on the websocket upgrade
    // and on polling POSTs, not on a same-origin polling GET (the handshake), so it may be absent there.
    const connects = server.logs.securityEvents('WEBSOCKET_CONNECT').filter((entry) => entry.userId === userId && entry.via === transport);
    expect(connects.length).toBeGreaterThan(0);
    expect(connects.every((entry) => entry.origin === origin || (transport === 'polling' && entry.origin === undefined))).toBe(true);
    expect(problems).toEqual([]);
  });

  it('from a disallowed origin (another local server with the same page) cannot connect over either transport', async () => {
    let foreign: ForeignSite | undefined;
    try {
      foreign = await foreignSite(server.url);
      const page = await context.newPage();
      await page.goto(`${foreign.url}/demo`);
      expect(await page.evaluate(() => (globalThis as unknown as { demo: { gatewayUrl: string } }).demo.gatewayUrl)).toBe(server.url);

      // The page's own login is refused: REST answers a foreign Origin with 403.
      await page.locator('input[name="password"]').fill(process.env.TEST_SEED_PASSWORD ?? '');
      await page.locator('#login-form button[type="submit"]').click();
      await page.locator('[data-testid="login-error"]:not([hidden])').waitFor();

      // Even with a valid token handed to it, the client cannot get a socket from this origin.
      const token = await tokenFor('user@acme.test');
      for (const transport of ['websocket', 'polling'] as const) {
        const states = await tryConnect(page, server.url, token, transport);
        expect(states[0]).toBe('connecting');
        expect(states.some((state) => state.startsWith('reconnecting'))).toBe(true);
        expect(states.filter((state) => state === 'syncing' || state === 'live')).toEqual([]);
      }
      const refused = server.logs.securityEvents('ORIGIN_REJECTED').filter((entry) => entry.origin === foreign?.url);
      expect(new Set(refused.map((entry) => entry.transport))).toEqual(new Set(['http', 'websocket', 'polling']));
      expect(server.logs.securityEvents('WEBSOCKET_CONNECT').filter((entry) => entry.origin === foreign?.url)).toEqual([]);

      // Control: the same code from the allowed origin connects.
      const allowed = await context.newPage();
      await allowed.goto(`${server.url}/demo`);
      for (const transport of ['websocket', 'polling'] as const) {
        expect(await tryConnect(allowed, server.url, token, transport)).toEqual(['connecting', 'syncing', 'live', 'stopped:CLOSED']);
      }
    } finally {
      await foreign?.close();
    }
  });

  it('over SSE, EventSource with a stream ticket receives notifications and resumes after the server drops the stream, nothing missed', async () => {
    const publisher = await startApp();
    try {
      const page = await context.newPage();
      await page.goto(`${server.url}/demo`);
      await logIn(page, 'user@acme.test', 'sse');
      const first = uniqueTitle('sse live');
      await toUser(server.url, first);
      await item(page, first).waitFor();

      // Drop every stream: stop the server; publish on another instance meanwhile; start it again.
      await server.close();
      await waitForState(page, 'reconnecting');
      const missed = [uniqueTitle('sse missed'), uniqueTitle('sse missed'), uniqueTitle('sse missed')];
      for (const title of missed) await toUser(publisher.url, title);
      server = await start();

      for (const title of missed) await item(page, title).waitFor({ timeout: 20_000 });
      await waitForState(page, 'live');
      const after = uniqueTitle('sse after');
      await toUser(server.url, after);
      await item(page, after).waitFor();
      await settle(300);
      for (const title of [first, ...missed, after]) expect({ title, times: await deliveries(page, title) }).toEqual({ title, times: 1 });
      // Newest first, in cursor order.
      const shown = await page.locator('[data-testid="notification"] .title').allTextContents();
      expect(shown.slice(0, 5)).toEqual([after, ...[...missed].reverse(), first]);
    } finally {
      await publisher.close();
    }
  }, 60_000);

  it('the admin view sends USER, TENANT and GLOBAL notifications; a screenshot is saved', async () => {
    const send = async (page: Page, scope: 'USER' | 'TENANT' | 'GLOBAL', title: string): Promise<void> => {
      await page.locator('select[name="scope"]').selectOption(scope);
      await page.locator('input[name="title"]').fill(title);
      await page.locator('textarea[name="content"]').fill(`A ${scope} notification sent from the demo's admin view.`);
      await page.locator('select[name="priority"]').selectOption(scope === 'USER' ? 'medium' : 'high');
      await page.locator('#send-form button[type="submit"]').click();
      await page.locator('[data-testid="send-result"]', { hasText: `Sent ${scope}` }).waitFor();
    };

    const root = await context.newPage();
    await root.goto(`${server.url}/demo`);
    await logIn(root, 'root@platform.test', 'websocket');
    const global = uniqueTitle('Maintenance window tonight');
    await send(root, 'GLOBAL', global);
    await item(root, global).waitFor();

    const page = await context.newPage();
    await page.setViewportSize({ width: 1200, height: 900 });
    await page.goto(`${server.url}/demo`);
    await logIn(page, 'admin@acme.test', 'websocket');
    expect(await page.locator('select[name="scope"] option[value="GLOBAL"]').isDisabled()).toBe(true);
    const mine = uniqueTitle('Your report is ready');
    const tenant = uniqueTitle('New teammate joined acme');
    await send(page, 'USER', mine);
    await send(page, 'TENANT', tenant);
    await item(page, mine).waitFor();
    await item(page, tenant).waitFor();
    await toUser(server.url, uniqueTitle('Invoice 2026-11 paid'), 'admin@acme.test');
    await item(page, mine).locator('.mark-read').click();
    await page.locator('[data-testid="notification"].read', { hasText: mine }).waitFor();
    // An admin of acme never sees the GLOBAL one.
    expect(await item(page, global).count()).toBe(0);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'demo.png'), fullPage: true });
  });
});
