/**
 * The package's entry point (`@notify-gateway/backend`): what a host NestJS backend imports to
 * embed the gateway (docs/BACKEND.md). Importing it starts nothing.
 */
export { NotificationGatewayModule } from './module/notification-gateway.module.js';
export type { NotificationGatewayAsyncOptions, NotificationGatewayFeatures, NotificationGatewayOptions } from './module/notification-gateway.options.js';
export { setupNotificationGateway } from './module/setup-notification-gateway.js';
export { OPTION_VARIABLES, type NotificationGatewayConfig } from './config/gateway-options.js';
export { ConfigError } from './config/config-error.js';
export { migrateNotificationGateway, type MigrateGatewayOptions } from './core/prisma/migrate-gateway.js';
export { USER_DIRECTORY_SOURCE, type UserDirectoryEntry, type UserDirectorySource } from './auth/user-directory-source.js';
export { NotificationsModule } from './notifications/notifications.module.js';
export { NotificationService, type NotificationInput } from './notifications/notification.service.js';
export { ConnectionService } from './notifications/connection.service.js';
export { UsersModule } from './users/users.module.js';
export { UserAccountService } from './users/user-account.service.js';
export { UserStateChannel } from './auth/user-state-channel.js';
export { DependencyHealth } from './observability/dependency.health.js';
export { MetricsService } from './observability/metrics.service.js';
export { ApiError } from './common/errors/api-error.js';
// The standalone app, for hosts that run the gateway as its own process with their modules inside.
export { AppModule, type AppModuleOptions } from './app.module.js';
export { createApp } from './bootstrap.js';
export { loadConfig } from './config/load-config.js';
export type { AppConfig } from './config/app-config.js';
