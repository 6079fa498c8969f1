import { http } from '../support/http';
import { startApp, type RunningApp } from '../support/test-app';
import { tokenFor } from '../support/users';

const INTERNAL_LEAK = /\bat .+\(|node_modules|\.ts:\d|\.js:\d|SyntaxError|Unexpected token|stack/;

describe('HTTP hardening', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp({ HTTP_MAX_BODY_BYTES: '2048' });
  });
  afterAll(() => running.close());

  it('sends security headers and no framework banner', async () => {
    const response = await http(`${running.url}/health/live`);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(response.headers.get('strict-transport-security')).toContain('max-age=');
    expect(response.headers.get('x-powered-by')).toBeNull();
  });

  it('refuses a body over HTTP_MAX_BODY_BYTES with a generic 413', async () => {
    const response = await http(`${running.url}/notifications`, {
      token: await tokenFor('admin@acme.test'),
      body: { title: 't', content: 'x'.repeat(4096) },
    });
    expect(response.status).toBe(413);
    expect(response.body).toEqual({ statusCode: 413, code: 'PAYLOAD_TOO_LARGE', message: 'Payload too large' });
  });

  it.each([
    ['malformed JSON', '{"email": "a@b.c", "password": ', 'application/json'],
    ['wrong content type', 'email=user@acme.test&password=x', 'application/x-www-form-urlencoded'],
    ['text body', 'hello', 'text/plain'],
  ])('answers %s with a generic 400 that leaks nothing', async (_name, body, contentType) => {
    const response = await http(`${running.url}/auth/login`, { body, headers: { 'content-type': contentType } });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
    expect(response.text).not.toMatch(INTERNAL_LEAK);
  });

  it('answers unknown routes with the generic 404 body', async () => {
    const response = await http(`${running.url}/definitely/not/here`);
    expect(response.body).toEqual({ statusCode: 404, code: 'NOT_FOUND', message: 'Not found' });
  });

  it('echoes a well-formed X-Request-Id and replaces a hostile one', async () => {
    expect((await http(`${running.url}/health/live`, { headers: { 'x-request-id': 'req-123' } })).headers.get('x-request-id')).toBe('req-123');
    const replaced = (await http(`${running.url}/health/live`, { headers: { 'x-request-id': 'evil\u0001id'.replace('\u0001', '') + 'x'.repeat(100) } })).headers.get('x-request-id');
    expect(replaced).toMatch(/^[0-9a-f-]{36}$/);
    // Every path of the standalone app gets one, the root and unknown paths included.
    for (const path of ['/', '/definitely/not/here']) expect((await http(`${running.url}${path}`)).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("writes one request line per request, and the security events of a request carry that request's id", async () => {
    const path = '/notifications/unread-count';
    await http(`${running.url}${path}?ticket=not-logged`, { token: 'abc.def.ghi', headers: { 'x-request-id': 'req-refused-1' } });
    await http(`${running.url}${path}`, { token: await tokenFor('user@acme.test'), headers: { 'x-request-id': 'req-served-1' } });
    const ofRequest = (id: string) => running.logs.entries().filter((entry) => (entry.req as { id?: string } | undefined)?.id === id);

    const refused = ofRequest('req-refused-1');
    expect(refused).toEqual([
      expect.objectContaining({ msg: 'SECURITY', event: 'AUTHENTICATION_FAILED', reason: 'MALFORMED_TOKEN', context: 'Security' }),
      expect.objectContaining({ msg: `GET ${path} 401`, res: { statusCode: 401 }, req: { id: 'req-refused-1', method: 'GET', path, remoteAddress: expect.any(String) } }),
    ]);
    // The served request has its own line and no security event; neither line holds the query string.
    expect(ofRequest('req-served-1')).toEqual([expect.objectContaining({ msg: `GET ${path} 200`, res: { statusCode: 200 } })]);
    expect(running.logs.lines.filter((line) => line.includes('not-logged'))).toEqual([]);
  });
});
