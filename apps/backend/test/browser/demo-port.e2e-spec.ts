import type { Browser, BrowserContext } from 'playwright-core';
import { freePort } from '../support/ports';
import { startApp, type RunningApp } from '../support/test-app';
import { http, uniqueTitle } from '../support/http';
import { tokenFor } from '../support/users';
import { buildClientBundle, foreignSite, item, launchChromium, logIn, waitForState, type ForeignSite } from './browser';

/**
 * The demo on a PORT of its own choosing, with no ALLOWED_ORIGINS: the server's own origin is
 * allowed outside production, and a refused page says so instead of staying "offline".
 */
describe('the demo page on any PORT', () => {
  let server: RunningApp;
  let browser: Browser;
  let context: BrowserContext;
  let foreign: ForeignSite | undefined;

  beforeAll(async () => {
    buildClientBundle();
    const port = await freePort();
    server = await startApp({ PORT: String(port), ALLOWED_ORIGINS: '' }, port);
    browser = await launchChromium();
    context = await browser.newContext();
  }, 120_000);
  afterAll(async () => {
    await foreign?.close();
    await browser?.close();
    await server?.close();
  });

  it.each(['127.0.0.1', 'localhost'])('served from http://%s:PORT, logs in and goes live', async (hostname) => {
    const page = await context.newPage();
    await page.goto(`${server.url.replace('127.0.0.1', hostname)}/demo`);
    await logIn(page, 'user@acme.test', 'websocket');
    expect(await page.locator('[data-testid="status"]').textContent()).toBe('live · websocket');
    await page.close();
  });

  it('an admin sends a USER notification to a user named by email; only that user gets it, never across tenants', async () => {
    const admin = await context.newPage();
    await admin.goto(`${server.url}/demo`);
    await logIn(admin, 'admin@acme.test', 'websocket');
    const recipient = await context.newPage();
    await recipient.goto(`${server.url}/demo`);
    await logIn(recipient, 'user@acme.test', 'websocket');

    const title = uniqueTitle('Picked by email');
    await admin.locator('select[name="scope"]').selectOption('USER');
    await admin.locator('input[name="recipient"]').fill('USER@acme.test');
    await admin.locator('input[name="title"]').fill(title);
    await admin.locator('textarea[name="content"]').fill('Sent to a recipient chosen by email.');
    await admin.locator('#send-form button[type="submit"]').click();
    await admin.locator('[data-testid="send-result"]', { hasText: 'Sent USER' }).waitFor();
    await item(recipient, title).waitFor();
    expect(await item(admin, title).count()).toBe(0);

    // Another tenant's user is not found, and nothing is sent.
    await admin.locator('input[name="recipient"]').fill('user@globex.test');
    await admin.locator('input[name="title"]').fill(uniqueTitle('Across tenants'));
    await admin.locator('textarea[name="content"]').fill('Must not be sent.');
    await admin.locator('#send-form button[type="submit"]').click();
    await admin.locator('[data-testid="send-result"]', { hasText: 'Refused: NOT_FOUND' }).waitFor();
    await admin.close();
    await recipient.close();

    // The lookup is for admins only.
    const lookup = `${server.url}/demo/api/recipient?email=user%40acme.test`;
    expect((await http(lookup, { token: await tokenFor('user@acme.test'), origin: null })).status).toBe(403);
    expect((await http(lookup, { origin: null })).status).toBe(401);
  });

  it('from an origin it does not allow, shows the refusal and its code', async () => {
    foreign = await foreignSite(server.url);
    const page = await context.newPage();
    await page.goto(`${foreign.url}/demo`);
    await page.locator('[data-email="user@acme.test"]').click();
    await page.locator('input[name="password"]').fill(process.env.TEST_SEED_PASSWORD ?? '');
    await page.locator('#login-form button[type="submit"]').click();
    await waitForState(page, 'refused');
    // The browser hides the 403 (no CORS headers for a refused origin): the page names what to check.
    expect(await page.locator('[data-testid="status"]').textContent()).toBe('refused · UNREACHABLE');
    expect(await page.locator('[data-testid="login-error"]').textContent()).toContain(foreign.url);
    await page.close();
  });
});
