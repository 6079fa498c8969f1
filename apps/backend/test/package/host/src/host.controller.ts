import { CanActivate, Controller, ExecutionContext, Get, Injectable, Param, Post, UseGuards } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { IncomingMessage } from 'node:http';
import { OrderNotifier } from './order-notifier';

/** The host's own guard, on the host's own routes, reading the host's own ConfigModule. */
@Injectable()
export class HostKeyGuard implements CanActivate {
  constructor(private readonly config: ConfigService) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<IncomingMessage>();
    return request.headers['x-host-key'] === this.config.getOrThrow<string>('HOST_API_KEY');
  }
}

@Controller('orders')
@UseGuards(HostKeyGuard)
export class HostController {
  constructor(private readonly orders: OrderNotifier) {}

  @Get('ping')
  ping() {
    return { ok: true };
  }

  @Post(':userId/shipped')
  shipped(@Param('userId') userId: string) {
    return this.orders.orderShipped(userId, 'A-1001');
  }

  @Post(':userId/deactivate')
  deactivate(@Param('userId') userId: string) {
    return this.orders.deactivate(userId);
  }
}
