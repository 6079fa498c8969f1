import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { freshUser, postNotification } from '../support/sse';
import { ALLOWED_ORIGIN, startApp, type RunningApp } from '../support/test-app';
import { tokenFor } from '../support/users';

/** A raw TCP client: the stream's bytes exactly as they leave the server, HTTP framing included. */
interface RawStream {
  bytes(): Buffer;
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  close(): void;
}

function rawStream(base: string, token: string, version: '1.0' | '1.1'): Promise<RawStream> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket: Socket = connect({ host: hostname, port: Number(port) }, () => {
      socket.write(
        `GET /notifications/stream HTTP/${version}\r\nHost: ${hostname}:${port}\r\nAccept: text/event-stream\r\n` +
          `Authorization: Bearer ${token}\r\nOrigin: ${ALLOWED_ORIGIN}\r\n\r\n`,
      );
      resolve({
        bytes: () => Buffer.concat(chunks),
        waitFor: async (text, timeoutMs = 5000) => {
          const until = Date.now() + timeoutMs;
          while (!Buffer.concat(chunks).includes(text)) {
            if (Date.now() > until) throw new Error(`no "${text}" within ${timeoutMs} ms: ${Buffer.concat(chunks).toString('utf8')}`);
            await new Promise((done) => setTimeout(done, 20));
          }
        },
        close: () => socket.destroy(),
      });
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
  });
}

/** Splits a response into its head and body. */
function split(response: Buffer): { head: string; body: Buffer } {
  const end = response.indexOf('\r\n\r\n');
  if (end === -1) throw new Error('no end of headers');
  return { head: response.subarray(0, end).toString('latin1'), body: response.subarray(end + 4) };
}

/** Strict HTTP/1.1 chunked decoding: every size line must match the bytes that follow it. */
function dechunk(body: Buffer): { sizes: number[]; data: Buffer } {
  const sizes: number[] = [];
  const parts: Buffer[] = [];
  let at = 0;
  while (at < body.length) {
    const eol = body.indexOf('\r\n', at);
    if (eol === -1) throw new Error(`incomplete size line at byte ${at}`);
    const line = body.subarray(at, eol).toString('latin1');
    if (!/^[0-9a-f]+$/.test(line)) throw new Error(`bad chunk size line ${JSON.stringify(line)} at byte ${at}`);
    const size = parseInt(line, 16);
    const start = eol + 2;
    if (start + size + 2 > body.length) break; // the last chunk is still on its way
    if (body.subarray(start + size, start + size + 2).toString('latin1') !== '\r\n') throw new Error(`chunk of ${size} bytes at byte ${at} is not followed by CRLF`);
    sizes.push(size);
    parts.push(body.subarray(start, start + size));
    at = start + size + 2;
  }
  return { sizes, data: Buffer.concat(parts) };
}

describe('SSE: the HTTP framing of a stream', () => {
  let running: RunningApp;
  let adminAcme: string;
  const open: RawStream[] = [];

  beforeAll(async () => {
    running = await startApp();
    adminAcme = await tokenFor('admin@acme.test');
  });
  afterEach(() => {
    for (const stream of open.splice(0)) stream.close();
  });
  afterAll(() => running.close());

  it('HTTP/1.1: one well-formed chunk per frame, sized in bytes (multi-byte text included)', async () => {
    const user = await freshUser('admin@acme.test');
    const stream = await rawStream(running.url, user.token(), '1.1');
    open.push(stream);
    await stream.waitFor('retry: 3000');
    const tag = randomUUID();
    // Characters of two, three and four UTF-8 bytes: a size counted in characters would be short.
    const title = `é ✓ 🚀 ${tag}`;
    const posted = await postNotification(running.url, adminAcme, { title, content: 'ü'.repeat(300), userId: user.id });
    await stream.waitFor(`"id":"${posted.id}"`);
    await stream.waitFor('\n\n\r\n', 1000);

    const { head, body } = split(stream.bytes());
    expect(head).toMatch(/^HTTP\/1\.1 200 /);
    expect(head.toLowerCase()).toContain('transfer-encoding: chunked');
    const { sizes, data } = dechunk(body);
    const text = data.toString('utf8');
    expect(sizes[0]).toBe(Buffer.byteLength('retry: 3000\n\n'));
    const frame = `event: notification:new\nid: u.${posted.epoch}.${posted.offset}\ndata: ${JSON.stringify(posted)}\n\n`;
    expect(text).toContain(frame);
    expect(sizes).toContain(Buffer.byteLength(frame));
    // Negative: no framing bytes leak into the event stream itself.
    expect(text).not.toMatch(/\r\n/);
  });

  it('HTTP/1.0: no chunking, the frames as they are, the same ids', async () => {
    const user = await freshUser('admin@acme.test');
    const stream = await rawStream(running.url, user.token(), '1.0');
    open.push(stream);
    await stream.waitFor('retry: 3000');
    const posted = await postNotification(running.url, adminAcme, { title: `ü ${randomUUID()}`, content: 'x', userId: user.id });
    await stream.waitFor(`"id":"${posted.id}"`);

    const { head, body } = split(stream.bytes());
    expect(head.toLowerCase()).not.toContain('transfer-encoding');
    expect(body.toString('utf8')).toBe(`retry: 3000\n\nevent: notification:new\nid: u.${posted.epoch}.${posted.offset}\ndata: ${JSON.stringify(posted)}\n\n`);
  });
});
