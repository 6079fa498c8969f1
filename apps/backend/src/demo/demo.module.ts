import { Module } from '@nestjs/common';
import { DemoAssets } from './demo-assets.js';
import { DemoController } from './demo.controller.js';

/** A page to try the gateway in a browser. Registered only outside production (app.module.ts). */
@Module({
  controllers: [DemoController],
  providers: [DemoAssets],
})
export class DemoModule {}
