/** The text/event-stream encoding: what goes on the wire and nothing else. */

/** How long an EventSource waits before reconnecting after the stream ends. */
export const RECONNECT_MS = 3000;
export const OPENING = `retry: ${RECONNECT_MS}\n\n`;
export const HEARTBEAT = ': ping\n\n';

/**
 * Suited to proxies: never cached, never buffered (nginx honours X-Accel-Buffering), never
 * transformed: a proxy or a host's compression middleware that honours no-transform leaves the
 * stream alone instead of compressing it, which would hold events in its buffer.
 */
export const SSE_HEADERS = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
  Connection: 'keep-alive',
} as const;

/**
 * One event serialised once for every stream it goes to: only the `id:` line differs between
 * streams (each carries its own position), so the payload is stringified once per event.
 */
export interface EncodedEvent {
  readonly head: string;
  readonly body: string;
  /** UTF-8 bytes of head + body; an `id:` line is ASCII, so a frame's size is this plus its length. */
  readonly bytes: number;
}

/** JSON never contains a raw newline, so one `data:` line always holds the whole payload. */
export function encodeEvent(event: string, data: unknown): EncodedEvent {
  const head = `event: ${event}\n`;
  const body = `data: ${JSON.stringify(data)}\n\n`;
  return { head, body, bytes: Buffer.byteLength(head) + Buffer.byteLength(body) };
}

/** The frame of `encoded` for one stream; `id` is a position (ASCII, docs/DELIVERY.md). */
export function sseFrame(encoded: EncodedEvent, id?: string): string {
  return id === undefined ? encoded.head + encoded.body : `${encoded.head}id: ${id}\n${encoded.body}`;
}

/** The byte length of sseFrame(encoded, id), without counting it again. */
export function sseFrameBytes(encoded: EncodedEvent, id?: string): number {
  return id === undefined ? encoded.bytes : encoded.bytes + id.length + 5;
}

/**
 * `frame` as one HTTP/1.1 chunk, byte for byte what `res.write(frame)` puts on a chunked
 * response: size in hex, CRLF, the bytes, CRLF. Never called with '' (that is the last chunk).
 */
export function httpChunk(frame: string): string {
  return `${Buffer.byteLength(frame).toString(16)}\r\n${frame}\r\n`;
}

export function sseEvent(event: string, data: unknown, id?: string): string {
  return sseFrame(encodeEvent(event, data), id);
}
