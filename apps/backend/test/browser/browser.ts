import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freePort } from '../support/ports';

export const REPO_ROOT = resolve(__dirname, '../../../..');
export const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Debian's Chromium (`.ci/browser` installs it); never a downloaded browser. */
export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run .ci/browser (apt-get install -y chromium)`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
}

/** The page loads the client's browser bundle: build it from the sources under test. */
export function buildClientBundle(): void {
  execFileSync('npm', ['run', 'build', '--silent', '--workspace', '@notify-gateway/client'], { cwd: REPO_ROOT, stdio: 'pipe' });
}

export interface ForeignSite {
  /** http://127.0.0.1:PORT, an origin the gateway does not allow. */
  url: string;
  close(): Promise<void>;
}

/**
 * Another origin serving the same demo HTML and JS (fetched from the gateway), with the page
 * pointed at the gateway's URL: what a hostile or misconfigured site would do.
 */
export async function foreignSite(gatewayUrl: string): Promise<ForeignSite> {
  const port = await freePort();
  const server: Server = createServer((request, response) => {
    const path = request.url ?? '/';
    if (request.method !== 'GET' || !path.startsWith('/demo')) {
      response.writeHead(404).end();
      return;
    }
    fetch(gatewayUrl + path)
      .then(async (upstream) => {
        let body = await upstream.text();
        if (path === '/demo') body = body.replace('<meta name="gateway-url" content="" />', `<meta name="gateway-url" content="${gatewayUrl}" />`);
        response.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'text/plain' }).end(body);
      })
      .catch(() => response.writeHead(502).end());
  });
  await new Promise<void>((done) => server.listen(port, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

export type DemoTransport = 'websocket' | 'polling' | 'sse';

/** Logs in through the page's form and waits until the feed is live. */
export async function logIn(page: Page, email: string, transport: DemoTransport): Promise<void> {
  await page.locator(`[data-email="${email}"]`).click();
  await page.locator('input[name="password"]').fill(process.env.TEST_SEED_PASSWORD ?? '');
  await page.locator('select[name="transport"]').selectOption(transport);
  await page.locator('#login-form button[type="submit"]').click();
  await waitForState(page, 'live');
}

export async function waitForState(page: Page, state: string, timeoutMs = 10_000): Promise<void> {
  await page.locator(`[data-testid="status"][data-state="${state}"]`).waitFor({ timeout: timeoutMs });
}

/** The page's list item for a notification title. */
export const item = (page: Page, title: string) => page.locator('[data-testid="notification"]', { hasText: title });

/** How many times the page handed this title to the application (its event log), duplicates included. */
export async function deliveries(page: Page, title: string): Promise<number> {
  const entries = await page.locator('[data-testid="log"] li').allTextContents();
  return entries.filter((entry) => entry.includes('notification #') && entry.endsWith(`: ${title}`)).length;
}

export async function unreadShown(page: Page): Promise<number> {
  return Number(await page.locator('[data-testid="unread-count"]').textContent());
}
