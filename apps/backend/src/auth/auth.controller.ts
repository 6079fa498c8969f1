import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import type { LoginResponse } from '@notify-gateway/contracts';
import { clientIp } from '../common/client-ip.js';
import { Public } from '../common/decorators/auth.decorators.js';
import { ApiErrors } from '../common/openapi/api-errors.decorator.js';
import { LoginResponseDto } from '../common/openapi/response.dto.js';
import { AuthService } from './auth.service.js';
import { LoginDto } from './dto/login.dto.js';
import { GatewayHttp } from '../common/decorators/gateway-http.decorator.js';

@ApiTags('auth')
@GatewayHttp()
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @Post('login')
  @ApiOperation({ summary: 'Exchange email and password for an access token', description: 'The same 401 body for every failure. Limited per IP and per email.' })
  @ApiOkResponse({ type: LoginResponseDto })
  @ApiErrors(400, 401, 429)
  @HttpCode(200)
  login(@Body() body: LoginDto, @Req() request: Request): Promise<LoginResponse> {
    return this.auth.login(body.email, body.password, clientIp(request));
  }
}
