import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { json } from 'express';
import helmet from 'helmet';
import type { Server } from 'node:http';
import { Logger } from 'nestjs-pino';
import { AppModule, type AppModuleOptions } from './app.module.js';
import { setupOpenApi } from './common/openapi/openapi.js';
import type { AppConfig } from './config/app-config.js';
import { OriginPolicy } from './security/origin-policy.js';
import { setupNotificationGateway } from './module/setup-notification-gateway.js';

/**
 * Creates the configured application, not yet listening. Shared by main.ts and the tests, so
 * tests run exactly what production runs.
 */
export async function createApp(config: AppConfig, options: AppModuleOptions = {}): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, options), {
    bufferLogs: true,
    bodyParser: false,
  });
  app.useLogger(app.get(Logger));
  app.flushLogs();

  app.disable('x-powered-by');
  // Behind a proxy, TRUST_PROXY hops make rate limits and caps key on the client, not the proxy.
  app.set('trust proxy', config.trustProxyHops);
  app.use(helmet());
  // Batches carry up to 500 items: their own bound, parsed first (the global parser then skips them).
  app.use('/notifications/batch', json({ limit: config.delivery.batchBodyBytes }));
  app.useBodyParser('json', { limit: config.limits.httpBodyBytes });

  const origins = app.get(OriginPolicy);
  // `false` (never an Error) for a refused origin: Express would turn an Error into a 500.
  app.enableCors({
    origin: (origin, callback) => callback(null, origins.isAllowed(origin)),
    credentials: true,
    maxAge: 600,
  });

  // Slow headers and bodies must not hold a connection (Node's defaults: 60 s and 300 s).
  // requestTimeout covers receiving the request only: SSE responses stream on past it.
  const server = app.getHttpServer() as Server;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  setupNotificationGateway(app);
  // The REST reference at /docs: outside production, or when SWAGGER_ENABLED=true.
  if (config.swaggerEnabled) setupOpenApi(app);
  return app;
}
