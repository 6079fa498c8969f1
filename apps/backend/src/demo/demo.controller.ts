import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../auth/http/auth.decorators.js';
import { ApiError } from '../common/errors/api-error.js';
import { DemoAssets } from './demo-assets.js';
import { GatewayHttp } from '../auth/http/gateway-http.decorator.js';

/** The demo page and its scripts, same origin as the API (Helmet's CSP allows 'self' scripts only). */
@Public()
@ApiExcludeController()
@GatewayHttp()
@Controller('demo')
export class DemoController {
  constructor(private readonly assets: DemoAssets) {}

  @Get()
  page(@Res() response: Response): Promise<void> {
    return this.send(response, 'index.html');
  }

  @Get(':file')
  file(@Param('file') file: string, @Res() response: Response): Promise<void> {
    return this.send(response, file);
  }

  private async send(response: Response, name: string): Promise<void> {
    const asset = await this.assets.get(name);
    if (!asset) throw new ApiError(404, 'NOT_FOUND');
    response.setHeader('cache-control', 'no-store');
    response.type(asset.contentType).send(asset.body);
  }
}
