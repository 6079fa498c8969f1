import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from './app-config.js';

/** The validated configuration of this gateway instance (provided by NotificationGatewayModule). */
export const GATEWAY_CONFIG = Symbol('NOTIFICATION_GATEWAY_CONFIG');

/**
 * The gateway's ConfigService, over its validated config only. Not global: every gateway module
 * imports it, and an explicit import wins over a host's global ConfigModule, so the host's
 * ConfigService and ours never see each other's values.
 */
@Module({
  providers: [{ provide: ConfigService, inject: [GATEWAY_CONFIG], useFactory: configServiceFor }],
  exports: [ConfigService],
})
export class GatewayConfigModule {}

function configServiceFor(config: AppConfig): ConfigService<AppConfig, true> {
  const service = new ConfigService<AppConfig, true>({ ...config });
  // Nothing of the gateway reads process.env after validation (an unset key must stay unset).
  (service as unknown as { skipProcessEnv: boolean }).skipProcessEnv = true;
  return service;
}
