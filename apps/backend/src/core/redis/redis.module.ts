import { Global, Module } from '@nestjs/common';
import { GatewayConfigModule } from '../../config/gateway-config.module.js';
import { RedisService } from './redis.service.js';

@Global()
@Module({ imports: [GatewayConfigModule], providers: [RedisService], exports: [RedisService] })
export class RedisModule {}
