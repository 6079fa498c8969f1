import type { INestApplication } from '@nestjs/common';
import type { AppConfig } from '../config/app-config.js';
import { GATEWAY_CONFIG } from '../config/gateway-config.module.js';
import { NotificationsIoAdapter } from '../notifications/socket/notifications-io.adapter.js';

/**
 * What a module cannot do by itself: the socket.io adapter of the app. It enforces the origin
 * policy on every handshake (the websocket upgrade included, answered 403), bounds messages,
 * closes connections that do not authenticate within WS_AUTH_TIMEOUT_MS and, with Redis, shares
 * rooms between instances. Call it after NestFactory.create and before listen.
 */
export function setupNotificationGateway(app: INestApplication): void {
  const config = app.get<AppConfig>(GATEWAY_CONFIG);
  app.useWebSocketAdapter(new NotificationsIoAdapter(app, config));
}
