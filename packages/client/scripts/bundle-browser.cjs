#!/usr/bin/env node
// @ts-check
'use strict';
/**
 * Browser bundle without a bundler dependency. tsc has already emitted CommonJS for the client
 * and the contracts, so each module is wrapped in a function and require() is resolved from a
 * fixed table; socket.io-client comes in as its own browser build (UMD). The result is one
 * classic script that defines `NotifyGatewayClient` (window/globalThis).
 */
const fs = require('node:fs');
const path = require('node:path');

const packageDir = path.resolve(__dirname, '..');
const outFile = path.join(packageDir, 'dist/browser/notify-gateway-client.js');
const entry = path.join(packageDir, 'dist/index.js');
const contractsEntry = path.resolve(packageDir, '../contracts/dist/index.js');
const socketIoBuild = path.join(path.dirname(require.resolve('socket.io-client/package.json', { paths: [packageDir] })), 'dist/socket.io.min.js');

/** @type {Map<string, { id: number, source: string, deps: Record<string, number> }>} */
const modules = new Map();

/** @param {string} from @param {string} specifier */
function resolve(from, specifier) {
  if (specifier === '@notify-gateway/contracts') return contractsEntry;
  if (specifier === 'socket.io-client') return socketIoBuild;
  if (specifier.startsWith('.')) return path.resolve(path.dirname(from), specifier);
  throw new Error(`${path.relative(packageDir, from)}: cannot bundle require(${JSON.stringify(specifier)})`);
}

/** @param {string} file @returns {number} */
function add(file) {
  const known = modules.get(file);
  if (known) return known.id;
  const record = { id: modules.size, source: '', deps: /** @type {Record<string, number>} */ ({}) };
  modules.set(file, record);
  let source = fs.readFileSync(file, 'utf8').replace(/^\/\/# sourceMappingURL=.*$/m, '');
  if (file !== socketIoBuild) {
    for (const match of source.matchAll(/\brequire\("([^"]+)"\)/g)) {
      record.deps[match[1]] = add(resolve(file, match[1]));
    }
  }
  record.source = source;
  return record.id;
}

const entryId = add(entry);
const table = [...modules.entries()]
  .map(([file, { id, source, deps }]) => {
    const name = path.relative(path.resolve(packageDir, '..'), file);
    return `/* ${name} */ ${id}: [function (module, exports, require) {\n${source}\n}, ${JSON.stringify(deps)}]`;
  })
  .join(',\n');

const bundle = `/*! @notify-gateway/client browser bundle; includes socket.io-client (MIT) */
(function (root) {
  'use strict';
  var defs = {
${table}
  };
  var cache = {};
  function load(id) {
    if (cache[id]) return cache[id].exports;
    var module = (cache[id] = { exports: {} });
    var deps = defs[id][1];
    defs[id][0].call(module.exports, module, module.exports, function (name) {
      if (!(name in deps)) throw new Error('not bundled: ' + name);
      return load(deps[name]);
    });
    return module.exports;
  }
  root.NotifyGatewayClient = load(${entryId});
})(typeof globalThis !== 'undefined' ? globalThis : self);
`;

fs.mkdirSync(path.dirname(outFile), { recursive: true });
fs.writeFileSync(outFile, bundle);
process.stdout.write(`${path.relative(process.cwd(), outFile)}: ${modules.size} modules, ${Math.round(bundle.length / 1024)} KiB\n`);
