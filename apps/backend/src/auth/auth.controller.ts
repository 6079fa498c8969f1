import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import type { LoginResponse } from '@notify-gateway/contracts';
import { clientIp } from '../common/client-ip.js';
import { CurrentUser, Public } from './http/auth.decorators.js';
import { ApiErrors } from '../common/openapi/api-errors.decorator.js';
import { LoginResponseDto } from '../common/openapi/response.dto.js';
import { AuthService } from './auth.service.js';
import type { AuthenticatedUser } from './authenticated-user.js';
import { LoginDto } from './dto/login.dto.js';
import { GatewayHttp } from './http/gateway-http.decorator.js';

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
    return this.auth.login(body.email, body.password, clientIp(request), request);
  }

  @Post('logout')
  @ApiOperation({
    summary: "Revoke the caller's token on every instance and transport",
    description: 'By its jti (login tokens carry one) until its exp; a token without jti revokes every token of the user issued so far. Live sockets and streams on that token end with TOKEN_REVOKED.',
  })
  @ApiBearerAuth()
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiErrors(401, 503)
  @HttpCode(204)
  logout(@CurrentUser() user: AuthenticatedUser, @Req() request: Request): Promise<void> {
    return this.auth.logout(user, clientIp(request), request);
  }
}
