/** What a host NestJS backend uses to embed the gateway (docs/BACKEND.md). */
export { AppModule, type AppModuleOptions } from './app.module.js';
export { createApp } from './bootstrap.js';
export { loadConfig } from './config/load-config.js';
export type { AppConfig } from './config/app-config.js';
export { NotificationsModule } from './notifications/notifications.module.js';
export { NotificationService, type NotificationInput } from './notifications/notification.service.js';
export { ConnectionService } from './notifications/connection.service.js';
export { UsersModule } from './users/users.module.js';
export { UserAccountService } from './users/user-account.service.js';
export { UserStateChannel } from './auth/user-state-channel.js';
