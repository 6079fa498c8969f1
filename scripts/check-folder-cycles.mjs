#!/usr/bin/env node
// Fails when the top-level folders of apps/backend/src import each other in a cycle.
// A folder is one concern; a cycle between two means neither can be read, tested or moved alone.
// Files at the root of src/ (main.ts, app.module.ts, bootstrap.ts, index.ts) compose the folders:
// they may import any folder, and no folder may import them.
// Usage: node scripts/check-folder-cycles.mjs [srcDir]   (run by `npm run lint`)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = '(src root)';
const here = dirname(fileURLToPath(import.meta.url));
const srcDir = resolve(process.argv[2] ?? join(here, '..', 'apps', 'backend', 'src'));
const ignoredFolders = new Set(['generated']);

/** @param {string} dir @returns {string[]} */
function sourceFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return ignoredFolders.has(name) && dir === srcDir ? [] : sourceFiles(path);
    return /\.ts$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** @param {string} file */
function folderOf(file) {
  const parts = relative(srcDir, file).split(sep);
  return parts.length === 1 ? ROOT : parts[0];
}

/** folder -> folder -> one example "file -> import" that makes the edge */
const edges = new Map();
for (const file of sourceFiles(srcDir)) {
  const from = folderOf(file);
  for (const { fileName } of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
    if (!fileName.startsWith('.')) continue;
    const target = resolve(dirname(file), fileName);
    if (relative(srcDir, target).startsWith('..')) continue;
    const to = folderOf(target);
    if (to === from || ignoredFolders.has(to)) continue;
    if (!edges.has(from)) edges.set(from, new Map());
    if (!edges.get(from).has(to)) edges.get(from).set(to, `${relative(srcDir, file)} -> ${fileName}`);
  }
}

// Tarjan's strongly connected components over the folder graph.
const index = new Map(), low = new Map(), onStack = new Set(), stack = [], components = [];
let counter = 0;
/** @param {string} node */
function visit(node) {
  index.set(node, counter); low.set(node, counter); counter++;
  stack.push(node); onStack.add(node);
  for (const next of edges.get(node)?.keys() ?? []) {
    if (!index.has(next)) { visit(next); low.set(node, Math.min(low.get(node), low.get(next))); }
    else if (onStack.has(next)) low.set(node, Math.min(low.get(node), index.get(next)));
  }
  if (low.get(node) === index.get(node)) {
    const component = [];
    let member;
    do { member = stack.pop(); onStack.delete(member); component.push(member); } while (member !== node);
    if (component.length > 1) components.push(component.sort());
  }
}
for (const node of edges.keys()) if (!index.has(node)) visit(node);

if (components.length === 0) {
  console.log(`folder imports: no cycles between the top-level folders of ${relative(process.cwd(), srcDir) || '.'}`);
  process.exit(0);
}
/** The shortest cycle inside a component: what a reader has to cut. @param {string[]} component */
function shortestCycle(component) {
  let best = null;
  for (const start of component) {
    const previous = new Map([[start, null]]);
    const queue = [start];
    let closing = null;
    while (queue.length > 0 && closing === null) {
      const node = queue.shift();
      for (const next of edges.get(node)?.keys() ?? []) {
        if (!component.includes(next)) continue;
        if (next === start) { closing = node; break; }
        if (!previous.has(next)) { previous.set(next, node); queue.push(next); }
      }
    }
    if (closing === null) continue;
    const path = [];
    for (let node = closing; node !== null; node = previous.get(node)) path.unshift(node);
    if (best === null || path.length < best.length) best = path;
  }
  return [...best, best[0]];
}

for (const component of components) {
  const cycle = shortestCycle(component);
  console.error(`folder import cycle: ${cycle.join(' -> ')}`);
  for (let i = 0; i + 1 < cycle.length; i++) console.error(`  ${cycle[i]} -> ${cycle[i + 1]}: ${edges.get(cycle[i]).get(cycle[i + 1])}`);
  if (component.length > cycle.length - 1) console.error(`  (the cycle ties together: ${component.join(', ')})`);
}
process.exit(1);
