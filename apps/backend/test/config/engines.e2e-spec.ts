import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { hostLockfile } from '../support/host-lockfile';

// semver ships no types of its own (it is the version npm's own tooling uses here).
const { satisfies, minVersion } = require('semver') as {
  satisfies: (version: string, range: string) => boolean;
  minVersion: (range: string) => { version: string } | null;
};

const REPO = resolve(__dirname, '../../../..');
const PACKAGES = { '@notify-gateway/backend': 'apps/backend', '@notify-gateway/client': 'packages/client', '@notify-gateway/contracts': 'packages/contracts' };

function engines(dir: string): string {
  return (JSON.parse(readFileSync(resolve(REPO, dir, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
}

/** The declared Node engine must be true for everything an install of the packages runs. */
describe('engines', () => {
  const declared = engines('.');
  const oldest = minVersion(declared)?.version ?? 'none';

  it('every package declares the workspace\'s engine', () => {
    expect(oldest).toBe('20.19.0');
    for (const dir of Object.values(PACKAGES)) expect(engines(dir)).toBe(declared);
  });

  it('every runtime dependency accepts the oldest Node the packages declare', () => {
    const tarballs = Object.fromEntries(Object.entries(PACKAGES).map(([name, workspace]) => [name, { spec: `file:${workspace}`, workspace }]));
    const lock = JSON.parse(hostLockfile({ repo: REPO, dependencies: {}, devDependencies: {}, tarballs })) as {
      packages: Record<string, { version?: string; engines?: { node?: string } }>;
    };
    const runtime = Object.entries(lock.packages).filter(([path]) => path !== '');
    expect(runtime.length).toBeGreaterThan(100);
    const refusing = runtime
      .filter(([, entry]) => entry.engines?.node !== undefined && !satisfies(oldest, entry.engines.node))
      .map(([path, entry]) => `${path}@${entry.version} wants node ${entry.engines?.node}`);
    expect(refusing).toEqual([]);
  });
});
