'use strict';
/** The run's console output: timestamped lines, and the generators' progress every 2 s. */

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s`;
/** @param {string} message */
const log = (message) => process.stdout.write(`[${elapsed()}] ${message}\n`);

/** Latest progress message of each generator for the step that is running. */
const progressState = new Map();
let progressLabel = '';
/** @param {string} label */
function step(label) {
  progressLabel = label;
  progressState.clear();
}

/** What a generator reports while a step runs. @param {any} message */
function onProgress(message) {
  if (message.type === 'done') progressState.delete(message.gen);
  else progressState.set(message.gen, message);
}

/** Prints the progress every 2 s; returns the stop function. */
function startProgress() {
  const timer = setInterval(() => {
    if (progressState.size === 0) return;
    const parts = [...progressState.values()];
    const sum = (/** @type {string} */ key) => parts.reduce((n, p) => n + (p[key] ?? 0), 0);
    const phase = parts[0].phase;
    if (phase === 'publish') {
      log(`  ${progressLabel}: sent ${sum('fired')}/${sum('total')}, 201 ${sum('ok')}, failed ${sum('failed')}, in flight ${sum('inFlight')}, skipped ${sum('skipped')}`);
    } else {
      log(`  ${progressLabel}: ${phase} ${sum('ok')}/${sum('total')} ok, ${sum('failed')} failed`);
    }
    progressState.clear();
  }, 2000);
  timer.unref();
  return () => clearInterval(timer);
}

module.exports = { started, log, step, onProgress, startProgress };
