import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { migrateNotificationGateway, setupNotificationGateway } from '@notify-gateway/backend';
import { AppModule } from './app.module';

async function bootstrap(): Promise<void> {
  // The gateway's tables live in a schema of their own in the host's database.
  await migrateNotificationGateway({ databaseUrl: process.env.DATABASE_URL ?? '', databaseSchema: 'notify_gateway' });
  const app = await NestFactory.create(AppModule);
  setupNotificationGateway(app);
  app.enableShutdownHooks();
  await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
}

void bootstrap();
