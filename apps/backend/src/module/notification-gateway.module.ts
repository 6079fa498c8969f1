import { Global, Inject, Logger, Module, RequestMethod, type DynamicModule, type MiddlewareConsumer, type NestModule, type Provider } from '@nestjs/common';
import cors from 'cors';
import helmet from 'helmet';
import { LoggerModule } from 'nestjs-pino';
import { AuthModule } from '../auth/auth.module.js';
import { USER_DIRECTORY_SOURCE } from '../auth/user-directory-source.js';
import type { AppConfig } from '../config/app-config.js';
import { GATEWAY_CONFIG, GatewayConfigModule } from '../config/gateway-config.module.js';
import { configFromOptions, type NotificationGatewayConfig } from '../config/gateway-options.js';
import { PrismaModule } from '../core/prisma/prisma.module.js';
import { RedisModule } from '../core/redis/redis.module.js';
import { DemoModule } from '../demo/demo.module.js';
import { NotificationsModule } from '../notifications/notifications.module.js';
import { HealthController } from '../operations/health.controller.js';
import { createRootLogger, loggerOptions } from '../observability/logger.options.js';
import { RequestLogMiddleware, ROOT_LOGGER } from '../observability/request-log.js';
import { MetricsController } from '../operations/metrics.controller.js';
import { ObservabilityModule } from '../observability/observability.module.js';
import { OriginMiddleware } from '../security/origin.middleware.js';
import { OriginPolicy } from '../security/origin-policy.js';
import { SecurityModule } from '../security/security.module.js';
import { UsersModule } from '../users/users.module.js';
import { gatewayRoutes, type RouteInfo } from './gateway-routes.js';
import type { NotificationGatewayAsyncOptions, NotificationGatewayFeatures, NotificationGatewayOptions } from './notification-gateway.options.js';

/** What only the standalone app (apps/backend main.ts) turns on. */
interface StandaloneFeatures {
  demo?: boolean;
  /** Request logs for every route, not only the gateway's (the standalone app serves nothing else). */
  logAllRoutes?: boolean;
  /**
   * The app itself applies helmet, CORS and the origin refusal to every route (bootstrap.ts and
   * AppModule do): the module does not apply them a second time to its own.
   */
  appliesHttpPolicy?: boolean;
}

type Features = NotificationGatewayFeatures & StandaloneFeatures;

/** The routes the module applies helmet, CORS and the origin refusal to (none when the app does it). */
const POLICY_ROUTES = Symbol('POLICY_ROUTES');
/** The routes with request ids and request logs. */
const LOGGED_ROUTES = Symbol('LOGGED_ROUTES');
/** Every path, `/` included (`*path` needs a segment). */
const ALL_ROUTES: RouteInfo = { path: '{*path}', method: RequestMethod.ALL };

/** Holds the validated config and the host's plug-ins, where every gateway module finds them. */
@Global()
@Module({})
class GatewayCoreModule {}

/**
 * The gateway as a module of a host's NestJS app (docs/BACKEND.md): the /notifications socket.io
 * gateway, the REST and SSE routes, health and metrics as the options say, and NotificationService,
 * ConnectionService and UserAccountService for the host's own providers. Its guards, pipes, filters,
 * CORS, helmet and origin policy apply to its own routes only. setupNotificationGateway(app) does
 * the one thing a module cannot: install the socket.io adapter.
 */
@Module({})
export class NotificationGatewayModule implements NestModule {
  private static readonly logger = new Logger('NotificationGateway');

  constructor(
    private readonly origins: OriginPolicy,
    @Inject(POLICY_ROUTES) private readonly policyRoutes: RouteInfo[],
    @Inject(LOGGED_ROUTES) private readonly loggedRoutes: RouteInfo[],
  ) {}

  static forRoot(options: NotificationGatewayOptions): DynamicModule {
    const config = NotificationGatewayModule.validate(options.config);
    return NotificationGatewayModule.create({ provide: GATEWAY_CONFIG, useValue: config }, options);
  }

  static forRootAsync(options: NotificationGatewayAsyncOptions): DynamicModule {
    return NotificationGatewayModule.create(
      {
        provide: GATEWAY_CONFIG,
        inject: options.inject ?? [],
        useFactory: async (...args: never[]) => NotificationGatewayModule.validate(await options.useFactory(...args)),
      },
      options,
    );
  }

  /** The standalone app: a config already validated from the environment (main.ts, tests). */
  static forConfig(config: AppConfig, features: Features = {}): DynamicModule {
    return NotificationGatewayModule.create({ provide: GATEWAY_CONFIG, useValue: config }, features);
  }

  private static validate(options: NotificationGatewayConfig): AppConfig {
    const { config, warnings } = configFromOptions(options);
    for (const warning of warnings) NotificationGatewayModule.logger.warn(warning);
    return config;
  }

  private static create(configProvider: Provider, features: Features): DynamicModule {
    const health = features.health ?? true;
    const metrics = features.metrics ?? true;
    const demo = features.demo ?? false;
    const routes = gatewayRoutes({ health, metrics, demo });
    const directory: Provider[] = features.userDirectory ? [{ provide: USER_DIRECTORY_SOURCE, useClass: features.userDirectory }] : [];
    return {
      module: NotificationGatewayModule,
      // NotificationService & co. are injectable in every host module without further imports.
      global: true,
      imports: [
        {
          module: GatewayCoreModule,
          imports: features.imports ?? [],
          providers: [configProvider, ...directory, { provide: ROOT_LOGGER, inject: [GATEWAY_CONFIG], useFactory: (config: AppConfig) => createRootLogger(config, features.logDestination) }],
          exports: [GATEWAY_CONFIG, ROOT_LOGGER, ...(features.userDirectory ? [USER_DIRECTORY_SOURCE] : [])],
        },
        GatewayConfigModule,
        LoggerModule.forRootAsync({ inject: [ROOT_LOGGER], useFactory: loggerOptions }),
        ObservabilityModule,
        PrismaModule,
        RedisModule,
        SecurityModule,
        AuthModule,
        NotificationsModule,
        UsersModule,
        ...(demo ? [DemoModule] : []),
      ],
      providers: [
        { provide: POLICY_ROUTES, useValue: features.appliesHttpPolicy ? [] : routes },
        { provide: LOGGED_ROUTES, useValue: features.logAllRoutes ? [ALL_ROUTES] : routes },
      ],
      controllers: [...(health ? [HealthController] : []), ...(metrics ? [MetricsController] : [])],
      exports: [NotificationsModule, UsersModule, ObservabilityModule],
    };
  }

  /** Helmet, CORS and the origin refusal, as the standalone app has them globally, on the gateway's routes only. */
  configure(consumer: MiddlewareConsumer): void {
    if (this.policyRoutes.length > 0) {
      const corsPolicy = cors({ origin: (origin, callback) => callback(null, this.origins.isAllowed(origin)), credentials: true, maxAge: 600 });
      consumer.apply(helmet(), corsPolicy, OriginMiddleware).forRoutes(...this.policyRoutes);
    }
    // After the module's own policy, as nestjs-pino's middleware was: a request it refuses for its
    // origin is not request-logged. (In the standalone app the origin check comes after this.)
    consumer.apply(RequestLogMiddleware).forRoutes(...this.loggedRoutes);
  }
}
