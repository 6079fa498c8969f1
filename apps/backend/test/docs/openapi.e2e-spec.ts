import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildOpenApiDocument } from '../../src/common/openapi/openapi';
import { http } from '../support/http';
import { startApp, type RunningApp } from '../support/test-app';

const COMMITTED = join(resolve(__dirname, '../../../..'), 'docs/openapi.json');

describe('OpenAPI reference', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp();
  });
  afterAll(() => running.close());

  it('the committed docs/openapi.json is what the code produces (run `npm run docs:openapi` after changing the API)', () => {
    const committed: unknown = JSON.parse(readFileSync(COMMITTED, 'utf8'));
    const generated: unknown = JSON.parse(JSON.stringify(buildOpenApiDocument(running.app)));
    expect(generated).toEqual(committed);
  });

  it('documents every REST route of the contract', () => {
    const document = buildOpenApiDocument(running.app);
    const routes = Object.entries(document.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`));
    for (const route of [
      'POST /auth/login',
      'GET /notifications',
      'GET /notifications/unread-count',
      'PATCH /notifications/{id}/read',
      'POST /notifications/read-all',
      'POST /notifications',
      'GET /health/live',
      'GET /health/ready',
      'GET /metrics',
    ]) {
      expect(routes).toContain(route);
    }
  });

  it('serves the UI at /docs outside production', async () => {
    const page = await http(`${running.url}/docs`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('swagger-ui');
    expect((await http(`${running.url}/docs/openapi.json`)).status).toBe(200);
  });

  it('is absent in production unless SWAGGER_ENABLED', async () => {
    const production = await startApp({ NODE_ENV: 'production' });
    try {
      expect((await http(`${production.url}/docs`)).status).toBe(404);
      expect((await http(`${production.url}/docs/openapi.json`)).status).toBe(404);
    } finally {
      await production.close();
    }
  });
});
