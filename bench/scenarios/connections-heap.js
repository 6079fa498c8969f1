'use strict';
/**
 * Heap-snapshot diff per connection for scenario 1 (BENCH_HEAP_DIFF=1): a snapshot of the
 * server's V8 heap before the sockets connect and one after they idled, through the inspector.
 * Objects are grouped by what V8 calls them (a constructor's name; `(closure) name` for
 * functions; `(string)`, `(array)`, `(code)`… for V8's own kinds) and the difference is divided by
 * the connections held: what one idle socket keeps, by kind.
 */
const children = require('../lib/children.js');

/** Inspector calls (full GCs, snapshots) may take this long: at N = 20,000 on this shared machine 30 s was not enough (issue 19). */
const CALL_TIMEOUT_MS = 180_000;

/**
 * The bench's inspector session (opened before the sockets connect: at the open-file limit the
 * server cannot accept one), with a timeout long enough for a large heap on a loaded machine,
 * heap snapshots, and how long the forced GCs took.
 * @param {string} url
 */
async function openSnapshotSession(url) {
  const inspector = await children.openInspector(url, CALL_TIMEOUT_MS);
  /** @type {string[] | null} */
  let chunks = null;
  inspector.onMessage((message) => {
    if (chunks && message.method === 'HeapProfiler.addHeapSnapshotChunk') chunks.push(message.params.chunk);
  });
  return {
    ...inspector,
    /** As the inspector's gc(), and `gcMs`: how long it took. */
    async gc() {
      const start = Date.now();
      const memory = await inspector.gc();
      return { ...memory, gcMs: Date.now() - start };
    },
    /** @returns {Promise<Map<string, { count: number, bytes: number }>>} */
    async take() {
      chunks = [];
      await inspector.call('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
      const snapshot = JSON.parse(chunks.join(''));
      chunks = null;
      return groupByKind(snapshot);
    },
  };
}

/** @param {any} snapshot @returns {Map<string, { count: number, bytes: number }>} */
function groupByKind(snapshot) {
  const meta = snapshot.snapshot.meta;
  const fields = meta.node_fields;
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((field) => fields.indexOf(field));
  const types = meta.node_types[0];
  const { nodes, strings } = snapshot;
  /** @type {Map<string, { count: number, bytes: number }>} */
  const groups = new Map();
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + typeAt]];
    const name = strings[nodes[i + nameAt]];
    const key = type === 'object' || type === 'native' ? name : type === 'closure' ? `(closure) ${name || '(anonymous)'}` : `(${type})`;
    const group = groups.get(key) ?? { count: 0, bytes: 0 };
    group.count += 1;
    group.bytes += nodes[i + sizeAt];
    groups.set(key, group);
  }
  return groups;
}

/**
 * Per connection: objects and bytes added between two snapshots, largest first.
 * @param {Map<string, { count: number, bytes: number }>} before @param {Map<string, { count: number, bytes: number }>} after @param {number} n
 */
function perConnection(before, after, n, rows = 25) {
  const diff = [];
  for (const [kind, group] of after) {
    const base = before.get(kind) ?? { count: 0, bytes: 0 };
    diff.push({ kind, objects: Math.round(((group.count - base.count) / n) * 100) / 100, bytes: Math.round((group.bytes - base.bytes) / n) });
  }
  diff.sort((x, y) => y.bytes - x.bytes);
  const total = diff.reduce((sum, row) => sum + row.bytes, 0);
  return { totalBytes: total, top: diff.slice(0, rows) };
}

module.exports = { openSnapshotSession, perConnection };
