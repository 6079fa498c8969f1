import { RequestMethod } from '@nestjs/common';

/** A route for MiddlewareConsumer.forRoutes (@nestjs/common does not export its RouteInfo type). */
export interface RouteInfo {
  path: string;
  method: RequestMethod;
}

/**
 * Every HTTP path the gateway serves (its controllers), for its route-scoped middleware: a host's
 * own routes never pass through it. Every method, so CORS preflights (OPTIONS) are answered too.
 */
export function gatewayRoutes(features: { health: boolean; metrics: boolean; demo: boolean }): RouteInfo[] {
  const prefixes = ['notifications', 'auth', ...(features.health ? ['health'] : []), ...(features.metrics ? ['metrics'] : []), ...(features.demo ? ['demo'] : [])];
  return prefixes.flatMap((prefix) => [
    { path: prefix, method: RequestMethod.ALL },
    { path: `${prefix}/*path`, method: RequestMethod.ALL },
  ]);
}
