'use strict';
/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): self time aggregated by function and by
 * package / file, optionally within a time window (microseconds on the profile's clock, which
 * is CLOCK_MONOTONIC — the clock of process.hrtime in any process on the machine).
 *
 *   node bench/profile-summary.js <file.cpuprofile> [--from <µs>] [--to <µs>] [--top 25]
 */

const { readFileSync } = require('node:fs');

/**
 * @typedef {{ id: number, callFrame: { functionName: string, url: string, lineNumber: number }, children?: number[] }} ProfileNode
 * @typedef {{ nodes: ProfileNode[], startTime: number, endTime: number, samples: number[], timeDeltas: number[] }} CpuProfile
 */

/** Where a frame's code lives: our code, a package, Node's internals, or V8 pseudo-frames. @param {string} url @param {string} fn */
function categoryOf(url, fn) {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  if (url.startsWith('node:')) return 'node:' + url.slice(5).replace(/^internal\//, 'internal/').split('/').slice(0, 2).join('/');
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('/node_modules/');
  if (modules !== -1) {
    const rest = path.slice(modules + '/node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const dist = path.indexOf('/apps/backend/dist/');
  if (dist !== -1) {
    const file = path.slice(dist + '/apps/backend/dist/'.length);
    return file.startsWith('generated/') ? 'ours: generated prisma client' : `ours: ${file}`;
  }
  const packages = path.indexOf('/packages/');
  if (packages !== -1) return `workspace: ${path.slice(packages + 10).split('/')[0]}`;
  return path.split('/').slice(-2).join('/');
}

/** @param {string} url */
function shortUrl(url) {
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('/node_modules/');
  if (modules !== -1) return path.slice(modules + 14);
  const dist = path.indexOf('/apps/backend/dist/');
  if (dist !== -1) return path.slice(dist + 19);
  return path.split('/').slice(-2).join('/');
}

/**
 * @param {CpuProfile} profile @param {{ from?: number, to?: number, top?: number }} [options]
 */
function summarizeProfile(profile, options = {}) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  /** @type {Map<number, number>} */
  const parentOf = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  /** Native frames (syscalls such as writev) charged to the nearest caller in a package or our code. @type {Map<string, number>} */
  const nativeCallers = new Map();
  /** @param {number} id */
  const packageCaller = (id) => {
    for (let current = parentOf.get(id), depth = 0; current !== undefined && depth < 60; current = parentOf.get(current), depth++) {
      const frame = /** @type {ProfileNode} */ (byId.get(current)).callFrame;
      if (frame.url && !frame.url.startsWith('node:')) return categoryOf(frame.url, frame.functionName);
    }
    return '(node internals only)';
  };
  /** @type {Map<string, { fn: string, where: string, category: string, us: number }>} */
  const functions = new Map();
  /** @type {Map<string, number>} */
  const categories = new Map();
  let totalUs = 0;
  let idleUs = 0;
  let ts = profile.startTime;
  const from = options.from ?? -Infinity;
  const to = options.to ?? Infinity;
  for (let i = 0; i < profile.samples.length; i++) {
    ts += profile.timeDeltas[i] ?? 0;
    // A sample lasts until the next one.
    const duration = Math.max(0, profile.timeDeltas[i + 1] ?? 0);
    if (ts < from || ts > to) continue;
    const node = byId.get(profile.samples[i]);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const fn = functionName || '(anonymous)';
    totalUs += duration;
    if (fn === '(idle)') {
      idleUs += duration;
      continue;
    }
    const category = categoryOf(url, fn);
    const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : '';
    const key = `${fn}\u0000${where}`;
    const entry = functions.get(key);
    if (entry) entry.us += duration;
    else functions.set(key, { fn, where, category, us: duration });
    categories.set(category, (categories.get(category) ?? 0) + duration);
    if (category === '(native)') {
      const caller = `${fn} ← ${packageCaller(node.id)}`;
      nativeCallers.set(caller, (nativeCallers.get(caller) ?? 0) + duration);
    }
  }
  const busyUs = totalUs - idleUs;
  const pct = (/** @type {number} */ us) => (busyUs > 0 ? Math.round((us / busyUs) * 1000) / 10 : 0);
  const top = options.top ?? 25;
  return {
    windowMs: Math.round(totalUs / 1000),
    busyMs: Math.round(busyUs / 1000),
    cpuBusyPct: totalUs > 0 ? Math.round((busyUs / totalUs) * 1000) / 10 : 0,
    topFunctions: [...functions.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({ function: f.fn, where: f.where, category: f.category, selfMs: Math.round(f.us / 100) / 10, pctOfBusy: pct(f.us) })),
    nativeByCaller: [...nativeCallers.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([caller, us]) => ({ caller, selfMs: Math.round(us / 100) / 10, pctOfBusy: pct(us) })),
    topCategories: [...categories.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([category, us]) => ({ category, selfMs: Math.round(us / 100) / 10, pctOfBusy: pct(us) })),
  };
}

/** @param {string} file @param {{ from?: number, to?: number, top?: number }} [options] */
function summarizeFile(file, options) {
  const profile = /** @type {CpuProfile} */ (JSON.parse(readFileSync(file, 'utf8')));
  return { startTime: profile.startTime, endTime: profile.endTime, ...summarizeProfile(profile, options) };
}

/** A plain-text rendering for the console. @param {ReturnType<typeof summarizeProfile>} summary */
function formatSummary(summary, limit = 15) {
  const lines = [`  window ${summary.windowMs} ms, busy ${summary.busyMs} ms (${summary.cpuBusyPct}% of one core)`];
  lines.push('  by package / file (self time, % of busy):');
  for (const c of summary.topCategories.slice(0, limit)) lines.push(`    ${String(c.pctOfBusy).padStart(5)}%  ${c.category}`);
  lines.push('  native time by calling package:');
  for (const c of summary.nativeByCaller.slice(0, 5)) lines.push(`    ${String(c.pctOfBusy).padStart(5)}%  ${c.caller}`);
  lines.push('  by function:');
  for (const f of summary.topFunctions.slice(0, limit)) lines.push(`    ${String(f.pctOfBusy).padStart(5)}%  ${f.function}  ${f.where}`);
  return lines.join('\n');
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const file = args[0];
  if (!file) {
    process.stderr.write('usage: node bench/profile-summary.js <file.cpuprofile> [--from µs] [--to µs] [--top N] [--json]\n');
    process.exit(2);
  }
  const option = (/** @type {string} */ name) => {
    const i = args.indexOf(name);
    return i === -1 ? undefined : Number(args[i + 1]);
  };
  const summary = summarizeFile(file, { from: option('--from'), to: option('--to'), top: option('--top') ?? 25 });
  if (args.includes('--json')) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  else process.stdout.write(`${formatSummary(summary, option('--top') ?? 25)}\n`);
}

module.exports = { summarizeProfile, summarizeFile, formatSummary };
