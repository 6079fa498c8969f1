import type { FactoryProvider, ModuleMetadata, Type } from '@nestjs/common';
import type { DestinationStream } from 'pino';
import type { UserDirectorySource } from '../auth/user-directory-source.js';
import type { NotificationGatewayConfig } from '../config/gateway-options.js';

/** What a host mounts or plugs in; fixed when the module is declared, even with forRootAsync. */
export interface NotificationGatewayFeatures {
  /** Mount `GET /health`, `/health/live` and `/health/ready` (default true). Without: inject DependencyHealth. */
  health?: boolean;
  /** Mount `GET /metrics` (default true). Without: read MetricsService.registry. */
  metrics?: boolean;
  /**
   * The host's own users table: a class with `findById(id)` → `{id, tenantId, role, isActive}` or
   * null, created inside the gateway with what `imports` provide. Unset: the gateway's `users` table.
   */
  userDirectory?: Type<UserDirectorySource>;
  /** Modules the user directory (and forRootAsync's factory) inject from. */
  imports?: ModuleMetadata['imports'];
  /** Where the gateway's JSON logs go; stdout when unset. */
  logDestination?: DestinationStream;
}

export interface NotificationGatewayOptions extends NotificationGatewayFeatures {
  config: NotificationGatewayConfig;
}

export interface NotificationGatewayAsyncOptions extends NotificationGatewayFeatures {
  /** Providers handed to useFactory, e.g. the host's ConfigService. */
  inject?: FactoryProvider['inject'];
  useFactory: (...args: never[]) => NotificationGatewayConfig | Promise<NotificationGatewayConfig>;
}
