import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { NotificationGatewayModule } from '@notify-gateway/backend';
import { HostDatabaseModule } from './host-database';
import { HostController } from './host.controller';
import { HostUserDirectory } from './host-user.directory';
import { OrderNotifier } from './order-notifier';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true }),
    HostDatabaseModule,
    NotificationGatewayModule.forRootAsync({
      imports: [HostDatabaseModule],
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        nodeEnv: config.getOrThrow('NODE_ENV'),
        databaseUrl: config.getOrThrow('DATABASE_URL'),
        databaseSchema: 'notify_gateway',
        jwtSecret: config.getOrThrow('JWT_SECRET'),
        frontendUrl: config.getOrThrow('FRONTEND_URL'),
        redisUrl: config.get('REDIS_URL'),
        redisKeyPrefix: config.get('REDIS_KEY_PREFIX'),
      }),
      userDirectory: HostUserDirectory,
      metrics: false,
    }),
  ],
  controllers: [HostController],
  providers: [OrderNotifier],
})
export class AppModule {}
