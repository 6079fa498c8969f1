import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { DemoAssets } from './demo-assets.js';
import { DemoController } from './demo.controller.js';
import { DemoUsersController } from './demo-users.controller.js';

/** A page to try the gateway in a browser. Registered only outside production (app.module.ts). */
@Module({
  // For the gateway's guards on its controller (GatewayHttp).
  imports: [AuthModule],
  controllers: [DemoController, DemoUsersController],
  providers: [DemoAssets],
})
export class DemoModule {}
