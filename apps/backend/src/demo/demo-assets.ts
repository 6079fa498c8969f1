import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface DemoAsset {
  body: Buffer;
  contentType: string;
}

// src/demo and dist/demo sit at the same depth, and tsc does not copy non-TS files:
// both resolve to the sources, so the built app serves the same files as the tests.
const BACKEND_DIR = join(__dirname, '..', '..');
const PUBLIC_DIR = join(BACKEND_DIR, 'src', 'demo', 'public');
const CLIENT_BUNDLE = join(BACKEND_DIR, '..', '..', 'packages', 'client', 'dist', 'browser', 'notify-gateway-client.js');

const JS = 'text/javascript; charset=utf-8';
/** The only files served: a fixed table, so no request path ever reaches the file system. */
const FILES: Record<string, { path: string; contentType: string }> = {
  'index.html': { path: join(PUBLIC_DIR, 'index.html'), contentType: 'text/html; charset=utf-8' },
  'demo.css': { path: join(PUBLIC_DIR, 'demo.css'), contentType: 'text/css; charset=utf-8' },
  'demo.js': { path: join(PUBLIC_DIR, 'demo.js'), contentType: JS },
  'api.js': { path: join(PUBLIC_DIR, 'api.js'), contentType: JS },
  'sse-feed.js': { path: join(PUBLIC_DIR, 'sse-feed.js'), contentType: JS },
  'view.js': { path: join(PUBLIC_DIR, 'view.js'), contentType: JS },
  'notify-gateway-client.js': { path: CLIENT_BUNDLE, contentType: JS },
};

@Injectable()
export class DemoAssets implements OnModuleInit {
  private readonly logger = new Logger(DemoAssets.name);

  onModuleInit(): void {
    if (!existsSync(CLIENT_BUNDLE)) {
      this.logger.warn('demo page: the client bundle is not built; run `npm run build`');
    }
  }

  /** Read on every request: this is a development page, edits show on reload. */
  async get(name: string): Promise<DemoAsset | null> {
    const file = Object.hasOwn(FILES, name) ? FILES[name] : undefined;
    if (!file) return null;
    try {
      return { body: await readFile(file.path), contentType: file.contentType };
    } catch {
      return null;
    }
  }
}
