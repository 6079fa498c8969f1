import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  link?: boolean;
  dev?: boolean;
  optional?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [field: string]: unknown;
}

interface Lockfile {
  packages: Record<string, LockEntry>;
}

export interface HostLockInput {
  /** The workspace root, whose package-lock.json pins every version and integrity. */
  repo: string;
  /** The host's package.json dependencies that come from the registry: name → exact version. */
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  /** Tarball dependencies: name → { spec: "file:…", workspace: the package's folder in the repo }. */
  tarballs: Record<string, { spec: string; workspace: string }>;
}

/**
 * A package-lock.json for a fresh host app, cut out of the workspace's own lockfile: the same
 * versions and integrities, laid out as npm laid them out here. With it `npm ci --offline` takes
 * every package from npm's cache and the tarballs alone (npm needs the registry's package
 * documents to resolve without a lockfile, and those are not all cached).
 */
export function hostLockfile(input: HostLockInput): string {
  const lock = JSON.parse(readFileSync(join(input.repo, 'package-lock.json'), 'utf8')) as Lockfile;
  const out: Record<string, LockEntry> = {};
  const visit = (fromWorkspacePath: string, fromHostPath: string, name: string, optional: boolean): void => {
    // Node's resolution over the workspace's layout: nearest node_modules first.
    let base = fromWorkspacePath;
    let hostBase = fromHostPath;
    for (;;) {
      const candidate = `${base ? `${base}/` : ''}node_modules/${name}`;
      const entry = lock.packages[candidate];
      if (entry && !entry.link) {
        const hostPath = `${hostBase ? `${hostBase}/` : ''}node_modules/${name}`;
        if (out[hostPath]) return;
        const { dev: _dev, ...kept } = entry;
        // This lockfile omits registry URLs; with one, npm takes the tarball from its cache by
        // integrity instead of asking the registry where it is.
        out[hostPath] = { ...kept, resolved: entry.resolved ?? registryTarball(name, entry.version ?? '') };
        const next = (deps: Record<string, string> | undefined, isOptional: boolean): void => {
          for (const dep of Object.keys(deps ?? {})) visit(candidate, hostPath, dep, isOptional);
        };
        next(entry.dependencies, false);
        next(entry.optionalDependencies, true);
        for (const peer of Object.keys(entry.peerDependencies ?? {})) {
          if (!entry.peerDependenciesMeta?.[peer]?.optional) visit(candidate, hostPath, peer, false);
        }
        return;
      }
      if (base === '') {
        if (optional) return;
        throw new Error(`${name} (needed under ${fromWorkspacePath || 'the root'}) is not in the workspace lockfile`);
      }
      // Up one node_modules level (or from a workspace folder to the root).
      const cut = base.lastIndexOf('/node_modules/');
      if (cut >= 0) {
        base = base.slice(0, cut);
        hostBase = hostBase.slice(0, Math.max(0, hostBase.lastIndexOf('/node_modules/')));
      } else {
        base = '';
        hostBase = '';
      }
    }
  };

  for (const name of [...Object.keys(input.dependencies), ...Object.keys(input.devDependencies)]) visit('', '', name, false);
  for (const [name, { spec, workspace }] of Object.entries(input.tarballs)) {
    const manifest = JSON.parse(readFileSync(join(input.repo, workspace, 'package.json'), 'utf8')) as LockEntry;
    const hostPath = `node_modules/${name}`;
    const fields = ['version', 'license', 'bin', 'engines', 'dependencies', 'peerDependencies'].filter((field) => manifest[field] !== undefined);
    out[hostPath] = { resolved: spec, ...Object.fromEntries(fields.map((field) => [field, manifest[field]])) };
    for (const dep of Object.keys(manifest.dependencies ?? {})) {
      if (input.tarballs[dep]) continue;
      visit(workspace, hostPath, dep, false);
    }
  }
  const root = {
    name: 'host-app',
    dependencies: { ...input.dependencies, ...Object.fromEntries(Object.entries(input.tarballs).map(([name, { spec }]) => [name, spec])) },
    devDependencies: input.devDependencies,
  };
  return JSON.stringify({ name: 'host-app', lockfileVersion: 3, requires: true, packages: { '': root, ...out } }, null, 2);
}

function registryTarball(name: string, version: string): string {
  const base = name.includes('/') ? name.split('/')[1] : name;
  return `https://registry.npmjs.org/${name}/-/${base}-${version}.tgz`;
}
