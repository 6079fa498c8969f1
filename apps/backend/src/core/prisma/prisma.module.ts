import { Global, Module } from '@nestjs/common';
import { PrismaService } from './prisma.service.js';
import { GatewayConfigModule } from '../../config/gateway-config.module.js';

@Global()
@Module({ imports: [GatewayConfigModule], providers: [PrismaService], exports: [PrismaService] })
export class PrismaModule {}
