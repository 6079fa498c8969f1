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

/** Below this excess over the cluster's mean an instance keeps its sockets (moving them costs a catch-up each). */
export const REBALANCE_MIN_EXCESS = 20;
/** ...and below this share of the mean: arrivals through a balancer are never exactly even. */
export const REBALANCE_TOLERANCE = 0.1;

/**
 * How many of its `local` sockets an instance should ask to reconnect so the cluster evens out,
 * given the counts the other instances reported: its excess over the mean, at most `maxPerRound`
 * (the reconnect rate times the interval). 0 when alone or near enough to the mean.
 */
export function rebalanceShare(local: number, others: readonly number[], maxPerRound: number): number {
  if (others.length === 0) return 0;
  const mean = (local + others.reduce((sum, n) => sum + n, 0)) / (others.length + 1);
  const excess = Math.floor(local - mean);
  if (excess < REBALANCE_MIN_EXCESS || excess < mean * REBALANCE_TOLERANCE) return 0;
  return Math.max(0, Math.min(excess, Math.floor(maxPerRound)));
}
