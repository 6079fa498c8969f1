'use strict';
/**
 * Heap-snapshot diff per connection for scenario 1 (BENCH_HEAP_DIFF=1): a snapshot of the
 * server's V8 heap before the sockets connect and one after they idled, through the inspector.
 * Objects are grouped by what V8 calls them (a constructor's name; `(closure) name` for
 * functions; `(string)`, `(array)`, `(code)`… for V8's own kinds) and the difference is divided by
 * the connections held: what one idle socket keeps, by kind. The objects new in the second
 * snapshot (by V8's object ids, stable within one session) are also grouped by their kind and
 * their first two retainers (`Lease <-lease- Object <-data- Socket`): where each kind is held.
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
    /**
     * A snapshot grouped by kind, its object ids, and (given the ids of an earlier one) the new
     * objects grouped by retainer path.
     * @param {Set<number>} [since]
     * @returns {Promise<{ groups: Map<string, { count: number, bytes: number }>, ids: Set<number>, retainedBy?: Map<string, { count: number, bytes: number }> }>}
     */
    async take(since) {
      chunks = [];
      await inspector.call('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
      const snapshot = JSON.parse(chunks.join(''));
      chunks = null;
      return { groups: groupByKind(snapshot), ids: nodeIds(snapshot), ...(since ? { retainedBy: groupByRetainers(snapshot, since) } : {}) };
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
    const key = kindOf(type, name);
    const group = groups.get(key) ?? { count: 0, bytes: 0 };
    group.count += 1;
    group.bytes += nodes[i + sizeAt];
    groups.set(key, group);
  }
  return groups;
}

/** What V8 calls a node: a constructor's name, `(closure) name`, or `(kind)` for its own kinds. @param {string} type @param {string} name */
function kindOf(type, name) {
  return type === 'object' || type === 'native' ? name : type === 'closure' ? `(closure) ${name || '(anonymous)'}` : `(${type})`;
}

/** @param {any} snapshot @returns {Set<number>} */
function nodeIds(snapshot) {
  const fields = snapshot.snapshot.meta.node_fields;
  const idAt = fields.indexOf('id');
  const ids = new Set();
  for (let i = 0; i < snapshot.nodes.length; i += fields.length) ids.add(snapshot.nodes[i + idAt]);
  return ids;
}

/**
 * The objects not in `since`, grouped by kind and their first two retainers (one strong edge
 * each, a new retainer preferred): a heap snapshot's "retainers" view, summed.
 * @param {any} snapshot @param {Set<number>} since @returns {Map<string, { count: number, bytes: number }>}
 */
function groupByRetainers(snapshot, since) {
  const meta = snapshot.snapshot.meta;
  const width = meta.node_fields.length;
  const edgeWidth = meta.edge_fields.length;
  const [typeAt, nameAt, idAt, sizeAt, edgeCountAt] = ['type', 'name', 'id', 'self_size', 'edge_count'].map((field) => meta.node_fields.indexOf(field));
  const [edgeTypeAt, edgeNameAt, edgeToAt] = ['type', 'name_or_index', 'to_node'].map((field) => meta.edge_fields.indexOf(field));
  const [nodeTypes, edgeTypes] = [meta.node_types[0], meta.edge_types[0]];
  const { nodes, edges, strings } = snapshot;
  const count = nodes.length / width;
  const isNew = (/** @type {number} */ node) => !since.has(nodes[node * width + idAt]);
  const kind = (/** @type {number} */ node) => kindOf(nodeTypes[nodes[node * width + typeAt]], strings[nodes[node * width + nameAt]]);
  const retainer = new Int32Array(count).fill(-1);
  const retainerEdge = new Int32Array(count).fill(-1);
  for (let node = 0, edge = 0; node < count; node++) {
    const end = edge + nodes[node * width + edgeCountAt] * edgeWidth;
    for (; edge < end; edge += edgeWidth) {
      const type = edgeTypes[edges[edge + edgeTypeAt]];
      if (type === 'weak' || type === 'shortcut') continue;
      const to = edges[edge + edgeToAt] / width;
      if (retainer[to] === -1 || (isNew(node) && !isNew(retainer[to]))) {
        retainer[to] = node;
        retainerEdge[to] = edge;
      }
    }
  }
  const edgeName = (/** @type {number} */ edge) => {
    const type = edgeTypes[edges[edge + edgeTypeAt]];
    return type === 'element' || type === 'hidden' ? `[${type}]` : String(strings[edges[edge + edgeNameAt]]);
  };
  /** @type {Map<string, { count: number, bytes: number }>} */
  const groups = new Map();
  for (let node = 0; node < count; node++) {
    if (!isNew(node)) continue;
    let path = kind(node);
    for (let at = node, depth = 0; depth < 2 && retainer[at] !== -1; depth++, at = retainer[at]) path += ` <-${edgeName(retainerEdge[at])}- ${kind(retainer[at])}`;
    const group = groups.get(path) ?? { count: 0, bytes: 0 };
    group.count += 1;
    group.bytes += nodes[node * width + sizeAt];
    groups.set(path, group);
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

/**
 * Per connection: the retainer paths of the new objects, largest first.
 * @param {Map<string, { count: number, bytes: number }>} retainedBy @param {number} n
 */
function retainersPerConnection(retainedBy, n, rows = 40) {
  const paths = [...retainedBy].map(([path, group]) => ({ path, objects: Math.round((group.count / n) * 100) / 100, bytes: Math.round(group.bytes / n) }));
  paths.sort((x, y) => y.bytes - x.bytes);
  return paths.slice(0, rows);
}

module.exports = { openSnapshotSession, perConnection, retainersPerConnection };
