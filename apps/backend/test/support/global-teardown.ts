import { readFileSync } from 'node:fs';
import { withAdminClient } from './test-database';

/** Credentials that must never appear in a log line, whatever the test did. */
const LEAK_PATTERNS: [string, RegExp][] = [
  ['a JWT', /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/],
  ['a Bearer credential', /Bearer\s+[A-Za-z0-9._~+/-]{8,}/i],
  ['an SSE ticket in a URL', /[?&]ticket=[A-Za-z0-9_-]{8,}/],
  ['a token in a URL', /[?&](access_)?token=[A-Za-z0-9._-]{8,}/],
  ['a cookie header', /"cookie":\s*"[^"[]/i],
];

/**
 * Drops the run's database, then scans every log line the run's apps wrote for credentials:
 * a leak anywhere in the e2e run fails the run.
 */
export default async function globalTeardown(): Promise<void> {
  const name = process.env.TEST_DATABASE_NAME;
  if (name) await withAdminClient((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));

  const file = process.env.TEST_LOG_FILE;
  if (!file) return;
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  const secrets = [process.env.TEST_SEED_PASSWORD ?? '', 'ChangeMe123!'].filter(Boolean);
  const leaks = lines.flatMap((line, index) => {
    const found = LEAK_PATTERNS.filter(([, pattern]) => pattern.test(line)).map(([what]) => what);
    if (secrets.some((secret) => line.includes(secret))) found.push('a password');
    return found.length ? [`line ${index + 1}: ${found.join(', ')}`] : [];
  });
  process.stdout.write(`\nlog scan: ${lines.length} log lines from the e2e run checked for tokens, tickets, passwords and Authorization values: ${leaks.length} leaks\n`);
  if (leaks.length > 0) throw new Error(`credentials found in logs (${file}):\n${leaks.slice(0, 20).join('\n')}`);
}
