import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Role } from '@notify-gateway/contracts';
import type { AuthenticatedUser } from '../authenticated-user.js';

export const IS_PUBLIC = 'auth:isPublic';
export const ROLES = 'auth:roles';

/** The route needs no access token (login, health, metrics with its own token). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);

/** Only these roles may call the route or handler. */
export const Roles = (...roles: Role[]): MethodDecorator & ClassDecorator => SetMetadata(ROLES, roles);

/** The authenticated caller of an HTTP route. */
export const CurrentUser = createParamDecorator((_data: unknown, context: ExecutionContext): AuthenticatedUser => {
  const request = context.switchToHttp().getRequest<{ user?: AuthenticatedUser }>();
  if (!request.user) throw new Error('CurrentUser used on a public route');
  return request.user;
});
