import type { INestApplicationContext } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { ExternalContextCreator, MetadataScanner } from '@nestjs/core';
import type { NestGateway } from '@nestjs/websockets/interfaces/nest-gateway.interface.js';
import { WsParamsFactory } from '@nestjs/websockets/factories/ws-params-factory.js';
import { GatewayMetadataExplorer } from '@nestjs/websockets/gateway-metadata-explorer.js';

/** A gateway's message handler for any socket: `(socket, payload, ack, event)`, as Nest's WS context receives them. */
export type SharedHandler = (socket: unknown, data: unknown, ack: unknown, event: string) => Promise<unknown>;

export interface SharedHandlerEntry {
  handler: SharedHandler;
  isAckHandledManually: boolean;
}

/** The gateway that serves each namespace, as it registered itself in `afterInit`. */
const gatewaysByNamespace = new WeakMap<object, object>();

/**
 * Called by a gateway in `afterInit`: its `@SubscribeMessage` handlers are then run through one
 * context per handler for every socket of the namespace. Nest binds each handler to each socket
 * (five bound functions and their argument lists per socket, kept for the socket's life:
 * docs/BENCHMARKS.md, section 1); NotificationsIoAdapter keeps none of those.
 */
export function shareGatewayHandlers(namespace: object, gateway: object): void {
  gatewaysByNamespace.set(namespace, gateway);
}

/**
 * The namespace's handlers by event name, each built once with Nest's own context creator for
 * the `ws` context type: the guards, pipes (parameter pipes included), interceptors and filters
 * of the gateway class and the method, and its `@ConnectedSocket`/`@MessageBody` parameters.
 * Undefined when no gateway shared its handlers for `namespace`.
 */
export function sharedHandlers(app: INestApplicationContext, namespace: object): Map<string, SharedHandlerEntry> | undefined {
  const gateway = gatewaysByNamespace.get(namespace);
  if (!gateway) return undefined;
  const contexts = app.get(ExternalContextCreator);
  // WsParamsFactory reads `data` as a string key, the only kind @MessageBody takes.
  const params = new WsParamsFactory() as unknown as Parameters<ExternalContextCreator['create']>[4];
  const methods = gateway as unknown as Record<string, (...args: unknown[]) => unknown>;
  const entries = new GatewayMetadataExplorer(new MetadataScanner()).explore(gateway as NestGateway).map(({ message, methodName, isAckHandledManually }): [string, SharedHandlerEntry] => {
    const handler = contexts.create(gateway, methods[methodName], methodName, ROUTE_ARGS_METADATA, params, undefined, undefined, undefined, 'ws') as SharedHandler;
    return [String(message), { handler, isAckHandledManually }];
  });
  return new Map(entries);
}
