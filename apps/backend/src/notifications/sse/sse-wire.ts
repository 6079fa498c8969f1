/** The text/event-stream encoding: what goes on the wire and nothing else. */

/** How long an EventSource waits before reconnecting after the stream ends. */
export const RECONNECT_MS = 3000;
export const OPENING = `retry: ${RECONNECT_MS}\n\n`;
export const HEARTBEAT = ': ping\n\n';

/** Suited to proxies: never cached, never buffered (nginx honours X-Accel-Buffering). */
export const SSE_HEADERS = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache',
  'X-Accel-Buffering': 'no',
  Connection: 'keep-alive',
} as const;

/** JSON never contains a raw newline, so one `data:` line always holds the whole payload. */
export function sseEvent(event: string, data: unknown, id?: string): string {
  return `event: ${event}\n${id === undefined ? '' : `id: ${id}\n`}data: ${JSON.stringify(data)}\n\n`;
}
