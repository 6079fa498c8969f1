import { request as httpRequest } from 'node:http';
import WebSocket from 'ws';
import { http } from '../support/http';
import { connect, refusal } from '../support/sockets';
import { ALLOWED_ORIGIN, startApp, type RunningApp } from '../support/test-app';
import { tokenFor } from '../support/users';

/** Origins a browser on an attacker's page could present. */
const LOOK_ALIKES = [
  'https://evil.test',
  'https://app.example.test.evil.test', // suffix
  'https://evil-app.example.test', // prefix
  'http://app.example.test', // other scheme
  'https://app.example.test:8443', // other port
  'https://APP.example.test', // mixed case
  'https://app.example.test/', // trailing slash
  'https://xn--pp-8la.example.test', // punycode look-alike
  'null',
  `${ALLOWED_ORIGIN}, https://evil.test`, // two origins folded into one header
];

function upgradeStatus(url: string, origin: string): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`, { headers: { origin } });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    ws.on('open', () => {
      ws.close();
      resolve({ status: 101, body: '', headers: {} });
    });
    ws.on('error', (error) => {
      if (!/Unexpected server response/.test(error.message)) reject(error);
    });
  });
}

function pollingHandshake(url: string, origin?: string): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/socket.io/?EIO=4&transport=polling`, { headers: origin === undefined ? {} : { origin } }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('one origin policy on every transport', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp();
  });
  afterAll(() => running.close());

  it('lets the allowed origin in over websocket and over polling', async () => {
    expect((await upgradeStatus(running.url, ALLOWED_ORIGIN)).status).toBe(101);
    const polling = await pollingHandshake(running.url, ALLOWED_ORIGIN);
    expect(polling.status).toBe(200);
    expect(polling.headers['access-control-allow-origin']).toBe(ALLOWED_ORIGIN);
    const token = await tokenFor('user@acme.test');
    for (const transports of [['websocket'], ['polling']] as const) {
      const socket = await connect(running.url, { token, transports: [...transports] });
      expect(socket.connected).toBe(true);
      socket.close();
    }
  });

  it('allows clients that send no Origin (server-to-server)', async () => {
    expect((await pollingHandshake(running.url)).status).toBe(200);
  });

  it.each(LOOK_ALIKES)('refuses %s on the websocket upgrade, the polling handshake and REST', async (origin) => {
    const upgrade = await upgradeStatus(running.url, origin);
    expect(upgrade.status).toBe(403);
    expect(upgrade.body).not.toContain(origin);

    const polling = await pollingHandshake(running.url, origin);
    expect(polling.status).toBe(403);
    expect(polling.headers['access-control-allow-origin']).toBeUndefined();
    expect(polling.body).not.toContain(origin);

    const rest = await http(`${running.url}/health/live`, { origin });
    expect(rest.status).toBe(403);
    expect(rest.body).toEqual({ statusCode: 403, code: 'ORIGIN_NOT_ALLOWED', message: 'Origin not allowed' });
    expect(rest.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('a socket.io client from a foreign origin never connects, on either transport', async () => {
    const token = await tokenFor('user@acme.test');
    expect(await refusal(running.url, { token, origin: 'https://evil.test', transports: ['websocket'] })).not.toBe('CONNECTED');
    expect(await refusal(running.url, { token, origin: 'https://evil.test', transports: ['polling'] })).not.toBe('CONNECTED');
  });

  it('logs ORIGIN_REJECTED with the transport, bounded and without credentials', () => {
    const events = running.logs.securityEvents('ORIGIN_REJECTED');
    const transports = new Set(events.map((event) => event.transport));
    expect(transports).toEqual(new Set(['websocket', 'polling', 'http']));
    expect(events.every((event) => typeof event.origin === 'string' && (event.origin as string).length <= 200)).toBe(true);
  });
});
