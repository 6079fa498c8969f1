'use strict';
/** Small helpers shared by the orchestrator and the generators. */

const { performance } = require('node:perf_hooks');

/** Wall-clock milliseconds with sub-millisecond resolution; comparable across processes on one machine. */
function nowMs() {
  return performance.timeOrigin + performance.now();
}

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Percentiles of a list of numbers (nearest-rank). Returns nulls for an empty list.
 * @param {number[]} values
 */
function summarize(values) {
  if (values.length === 0) return { count: 0, min: null, p50: null, p95: null, p99: null, max: null, mean: null };
  const sorted = Float64Array.from(values).sort();
  const at = (/** @type {number} */ q) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: sorted.length,
    min: round(sorted[0]),
    p50: round(at(0.5)),
    p95: round(at(0.95)),
    p99: round(at(0.99)),
    max: round(sorted[sorted.length - 1]),
    mean: round(sum / sorted.length),
  };
}

/** @param {number} v */
function round(v, digits = 2) {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/**
 * Runs `worker(i)` for i in [0, count) with at most `concurrency` in flight.
 * @param {number} count
 * @param {number} concurrency
 * @param {(i: number) => Promise<void>} worker
 * @param {() => boolean} [stopped]
 */
async function pool(count, concurrency, worker, stopped = () => false) {
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count && !stopped()) {
      const i = next++;
      await worker(i);
    }
  });
  await Promise.all(lanes);
}

/** Resolves with `promise` or rejects after `ms`. @template T @param {Promise<T>} promise @param {number} ms @param {string} what @returns {Promise<T>} */
function withTimeout(promise, ms, what) {
  /** @type {NodeJS.Timeout} */
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]);
}

module.exports = { nowMs, sleep, summarize, round, pool, withTimeout };
