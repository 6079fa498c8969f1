/** Shortest and longest spread a draining instance asks for, ms. */
export const DRAIN_SPREAD_MIN_MS = 1000;
export const DRAIN_SPREAD_MAX_MS = 30_000;

/**
 * The window (`reconnectWithinMs` of the SERVER_SHUTDOWN notice) over which `sockets` clients of a
 * draining instance should reconnect, so the rest of the cluster sees at most about
 * `ratePerSec` handshakes a second from them instead of all of them within socket.io's first
 * reconnect delay. Bounded: a client never waits more than 30 s to be live again.
 */
export function drainSpreadMs(sockets: number, ratePerSec: number): number {
  const window = Math.ceil((Math.max(0, sockets) / Math.max(1, ratePerSec)) * 1000);
  return Math.min(DRAIN_SPREAD_MAX_MS, Math.max(DRAIN_SPREAD_MIN_MS, window));
}
