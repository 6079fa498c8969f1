import { DynamicModule, MiddlewareConsumer, Module, NestModule, type ModuleMetadata } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { AuthModule } from './auth/auth.module.js';
import { HttpExceptionFilter } from './common/filters/http-exception.filter.js';
import { JwtAuthGuard } from './common/guards/jwt-auth.guard.js';
import { RolesGuard } from './common/guards/roles.guard.js';
import { createValidationPipe } from './common/validation.js';
import type { AppConfig } from './config/app-config.js';
import { PrismaModule } from './core/prisma/prisma.module.js';
import { DemoModule } from './demo/demo.module.js';
import { HttpDrain } from './core/http/http-drain.js';
import { RedisModule } from './core/redis/redis.module.js';
import { NotificationsModule } from './notifications/notifications.module.js';
import { loggerOptions } from './observability/logger.options.js';
import { ObservabilityModule } from './observability/observability.module.js';
import { OriginMiddleware } from './security/origin.middleware.js';
import { SecurityModule } from './security/security.module.js';
import { UsersModule } from './users/users.module.js';

export interface AppModuleOptions {
  /** Where JSON logs go; stdout when unset. Tests pass a capture stream. */
  logDestination?: DestinationStream;
  /** The host application's own modules, which may inject NotificationService (docs/BACKEND.md). */
  imports?: NonNullable<ModuleMetadata['imports']>;
}

@Module({})
export class AppModule implements NestModule {
  /** The validated config is the only configuration source; nothing below reads process.env. */
  static forRoot(config: AppConfig, options: AppModuleOptions = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, skipProcessEnv: true, load: [() => ({ ...config })] }),
        LoggerModule.forRoot(loggerOptions(config, options.logDestination)),
        ObservabilityModule,
        PrismaModule,
        RedisModule,
        SecurityModule,
        AuthModule,
        NotificationsModule,
        UsersModule,
        ...(config.isProduction ? [] : [DemoModule]),
        ...(options.imports ?? []),
      ],
      providers: [
        { provide: APP_PIPE, useFactory: createValidationPipe },
        { provide: APP_FILTER, useClass: HttpExceptionFilter },
        { provide: APP_GUARD, useClass: JwtAuthGuard },
        { provide: APP_GUARD, useClass: RolesGuard },
        HttpDrain,
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(OriginMiddleware).forRoutes('*path');
  }
}
