import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { exportedNames } from '../support/metrics';
import { startApp, type RunningApp } from '../support/test-app';

const DEPLOY = join(resolve(__dirname, '../../../..'), 'deploy');
const FILES = ['prometheus/alerts.yml', 'grafana/notification-gateway.json'];

/** Metric names an expression refers to, without the series suffixes Prometheus adds. */
function referencedMetrics(text: string): Set<string> {
  const names = text.match(/\b(notify|nodejs|process)_[a-z0-9_]+\b/g) ?? [];
  return new Set(names);
}

describe('deploy/ alert rules and dashboard reference only exported metrics', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp();
  });
  afterAll(() => running.close());

  it.each(FILES)('%s', async (file) => {
    const exported = await exportedNames(running.url);
    const referenced = [...referencedMetrics(readFileSync(join(DEPLOY, file), 'utf8'))];
    expect(referenced.length).toBeGreaterThan(5);
    const missing = referenced.filter((name) => !exported.has(name));
    expect(missing).toEqual([]);
  });

  it('the dashboard is valid JSON with a panel per metric family', () => {
    const dashboard = JSON.parse(readFileSync(join(DEPLOY, 'grafana/notification-gateway.json'), 'utf8')) as { panels: unknown[] };
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(10);
  });
});
