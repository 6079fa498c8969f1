import { applyDecorators, CanActivate, ExecutionContext, Injectable, SetMetadata, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import type { AuthenticatedUser } from '../authenticated-user.js';
import { RequestBudgets, type BudgetName } from '../../security/request-budgets.js';
import { clientIp } from '../../common/client-ip.js';

const BUDGET = 'http:budget';

/**
 * Spends one point of the named budget per request: the caller's own when authenticated, the
 * client IP's on a public route. Runs after authentication (a route-level guard).
 */
export const SpendBudget = (budget: BudgetName): MethodDecorator => applyDecorators(SetMetadata(BUDGET, budget), UseGuards(RequestBudgetGuard));

@Injectable()
export class RequestBudgetGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly budgets: RequestBudgets,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const budget = this.reflector.get<BudgetName | undefined>(BUDGET, context.getHandler());
    if (budget === undefined || context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<Request & { user?: AuthenticatedUser }>();
    const ip = clientIp(request);
    const user = request.user;
    await this.budgets.spend(budget, user ? user.userId : `ip:${ip}`, { userId: user?.userId, tenantId: user?.tenantId, ip, transport: 'http' }, request);
    return true;
  }
}
