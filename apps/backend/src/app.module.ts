import { DynamicModule, MiddlewareConsumer, Module, NestModule, type ModuleMetadata } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { DestinationStream } from 'pino';
import { HttpExceptionFilter } from './common/filters/http-exception.filter.js';
import type { AppConfig } from './config/app-config.js';
import { GatewayConfigModule } from './config/gateway-config.module.js';
import { HttpDrain } from './core/http/http-drain.js';
import { NotificationGatewayModule } from './module/notification-gateway.module.js';
import { OriginMiddleware } from './security/origin.middleware.js';

export interface AppModuleOptions {
  /** Where JSON logs go; stdout when unset. Tests pass a capture stream. */
  logDestination?: DestinationStream;
  /** Further modules of this app, which may inject NotificationService (docs/BACKEND.md). */
  imports?: NonNullable<ModuleMetadata['imports']>;
}

/**
 * The standalone gateway (`npm start`): a thin host of NotificationGatewayModule that serves
 * nothing else, so the gateway's error format and origin policy cover every route it answers,
 * unknown paths and body-parser errors included.
 */
@Module({})
export class AppModule implements NestModule {
  /** The validated config is the only configuration source; nothing below reads process.env. */
  static forRoot(config: AppConfig, options: AppModuleOptions = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        NotificationGatewayModule.forConfig(config, { demo: !config.isProduction, logAllRoutes: true, appliesHttpPolicy: true, logDestination: options.logDestination }),
        GatewayConfigModule,
        ...(options.imports ?? []),
      ],
      providers: [{ provide: APP_FILTER, useClass: HttpExceptionFilter }, HttpDrain],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(OriginMiddleware).forRoutes('*path');
  }
}
