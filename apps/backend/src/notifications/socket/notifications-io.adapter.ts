import { Logger, type INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { MessageMappingProperties } from '@nestjs/websockets';
import { createAdapter, createShardedAdapter } from '@socket.io/redis-adapter';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Observable } from 'rxjs';
import type { Server, ServerOptions, Socket } from 'socket.io';
import { NOTIFICATIONS_NAMESPACE } from '@notify-gateway/contracts';
import { peerAddress } from '../../common/client-ip.js';
import type { AppConfig } from '../../config/app-config.js';
import { guardUnawaitedCommands } from '../../core/redis/guard-unawaited-commands.js';
import { RedisService } from '../../core/redis/redis.service.js';
import { MetricsService } from '../../observability/metrics.service.js';
import { OriginPolicy } from '../../security/origin-policy.js';
import { SecurityEventLogger } from '../../security/security-event.logger.js';
import { EngineAdmission } from './engine-admission.js';
import { boundInbound, type EngineConnection as InboundConnection, type InboundBound } from './engine-inbound-bound.js';
import { bindSessionsToPeers } from './engine-session-binding.js';
import type { GatewaySocket } from './gateway-socket.js';
import { sharedHandlers } from './shared-gateway-handlers.js';
import { SocketEventBudget } from './socket-event-budget.js';
import { guardUnjoinedConnections } from './unjoined-connections.js';
import { HANDLED_BY_FILTER } from './ws-exception.filter.js';

const FORBIDDEN_BODY = JSON.stringify({ statusCode: 403, code: 'ORIGIN_NOT_ALLOWED', message: 'Origin not allowed' });
const FORBIDDEN_UPGRADE =
  'HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: application/json\r\n' +
  `Content-Length: ${Buffer.byteLength(FORBIDDEN_BODY)}\r\n\r\n${FORBIDDEN_BODY}`;
/** engine.io's own answer to a sid it does not know: a sid used from another peer gets the same, so it is no oracle. */
const UNKNOWN_SID_BODY = JSON.stringify({ code: 1, message: 'Session ID unknown' });
const UNKNOWN_SID_UPGRADE =
  'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: application/json\r\n' +
  `Content-Length: ${Buffer.byteLength(UNKNOWN_SID_BODY)}\r\n\r\n${UNKNOWN_SID_BODY}`;

type AnyListener = (this: Socket, ...args: unknown[]) => void;

/** Servers this adapter made: the gateway refuses to start on any other (setupNotificationGateway not called). */
const configuredServers = new WeakSet<Server>();

export function isConfiguredByGatewayAdapter(server: Server): boolean {
  return configuredServers.has(server);
}

/**
 * The socket.io server as configuration and docs/SECURITY.md want it: origin enforced on every
 * handshake (websocket upgrade included), bounded messages, the authentication deadline, and the
 * Redis adapter when several instances share rooms.
 */
export class NotificationsIoAdapter extends IoAdapter {
  constructor(
    private readonly app: INestApplicationContext,
    private readonly config: AppConfig,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const origins = this.app.get(OriginPolicy);
    const security = this.app.get(SecurityEventLogger);
    const metrics = this.app.get(MetricsService);
    const admission = this.app.get(EngineAdmission);
    const server = super.createIOServer(port, {
      ...options,
      serveClient: false,
      transports: ['polling', 'websocket'],
      maxHttpBufferSize: this.config.ws.maxPayloadBytes,
      // A backstop only: guardUnjoinedConnections enforces WS_AUTH_TIMEOUT_MS first, and firmly.
      connectTimeout: this.config.ws.authTimeoutMs + 1000,
      pingInterval: 25_000,
      pingTimeout: 20_000,
      perMessageDeflate: false,
      cors: { origin: (origin, callback) => callback(null, origins.isAllowed(origin)), credentials: true },
      // CORS headers do not protect a websocket: refuse foreign origins on every handshake.
      allowRequest: (request: IncomingMessage, callback: (error: string | null | undefined, success: boolean) => void) => {
        if (!origins.isAllowed(request.headers.origin)) {
          rejectOrigin(request, 'polling');
          return callback('ORIGIN_NOT_ALLOWED', false);
        }
        const ip = peerAddress(request, this.config.trustProxyHops);
        if (!admitPending(request)) {
          security.log('CONNECTION_LIMIT_EXCEEDED', { ip, reason: 'unauthenticated connections per IP' });
          return callback('CONNECTION_LIMIT', false);
        }
        // Over the connect rate, the session still opens: its CONNECT gets the contract's
        // RATE_LIMITED (a transport-level refusal would reach the client as "websocket error").
        const admit = (): void => callback(null, true);
        admission.handshake(request, ip).then(admit, admit);
      },
    } satisfies Partial<ServerOptions>);
    configuredServers.add(server);
    const admitPending = guardUnjoinedConnections(server, NOTIFICATIONS_NAMESPACE, {
      authTimeoutMs: this.config.ws.authTimeoutMs,
      maxPendingPerIp: this.config.limits.maxConnectionsPerIp,
      trustedHops: this.config.trustProxyHops,
      security,
    });
    const rejectOrigin = (request: IncomingMessage, transport: 'websocket' | 'polling'): void => {
      security.log('ORIGIN_REJECTED', {
        ip: request.socket.remoteAddress,
        origin: typeof request.headers.origin === 'string' ? request.headers.origin : String(request.headers.origin),
        transport,
        reason: 'engine handshake',
      });
    };
    const sessionRefusal = bindSessionsToPeers(server.engine, origins, this.config.trustProxyHops);
    const refuseSession = (request: IncomingMessage, refusal: 'origin' | 'peer', transport: 'websocket' | 'polling'): void => {
      if (refusal === 'origin') return rejectOrigin(request, transport);
      security.log('SECURITY_VIOLATION', { ip: peerAddress(request, this.config.trustProxyHops), transport, reason: 'engine session used from another peer' });
    };
    this.guardUpgrades((request) => {
      if (!origins.isAllowed(request.headers.origin)) {
        rejectOrigin(request, 'websocket');
        return FORBIDDEN_UPGRADE;
      }
      const refusal = sessionRefusal(request);
      if (!refusal) return null;
      refuseSession(request, refusal, 'websocket');
      return UNKNOWN_SID_UPGRADE;
    });
    // Polling requests on an existing session: engine.io checks the origin only at the handshake.
    server.engine.use((request: IncomingMessage, response: ServerResponse, next: (error?: Error) => void) => {
      const refusal = request.headers.upgrade ? null : sessionRefusal(request);
      if (!refusal) return next();
      refuseSession(request, refusal, 'polling');
      const [status, body] = refusal === 'origin' ? [403, FORBIDDEN_BODY] : [400, UNKNOWN_SID_BODY];
      response.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      response.end(body);
    });
    const limits = this.config.abuse;
    const meterInbound = boundInbound(
      { maxConnectAttempts: limits.maxConnectAttempts, framesPerSec: limits.inboundFramesPerSec, bytesPerSec: limits.inboundBytesPerSec },
      (connection: InboundConnection, bound: InboundBound, seen: number) => {
        metrics.abuseClosures.inc({ bound });
        security.log('SECURITY_VIOLATION', { ip: peerAddress(connection.request, this.config.trustProxyHops), reason: `${bound} over its bound (${seen} this connection); closed` });
      },
    );
    server.engine.on('connection', meterInbound);

    this.attachRedisAdapter(server, metrics);
    return server;
  }

  /**
   * engine.io answers a refused upgrade with 400; the policy is 403. Refused upgrades are
   * answered here, before engine.io's own upgrade listener sees them: `refusal` returns the
   * raw response to send, or null to let engine.io have the request.
   */
  private guardUpgrades(refusal: (request: IncomingMessage) => string | null): void {
    const httpServer = this.httpServer as Server['httpServer'] | undefined;
    if (!httpServer) return;
    const engineListeners = httpServer.listeners('upgrade') as ((request: IncomingMessage, socket: Duplex, head: Buffer) => void)[];
    httpServer.removeAllListeners('upgrade');
    httpServer.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      const answer = refusal(request);
      if (answer !== null) {
        socket.end(answer);
        return;
      }
      for (const listener of engineListeners) listener.call(httpServer, request, socket, head);
    });
  }

  /**
   * Single node: the classic pub/sub adapter. Cluster: the sharded adapter (Redis 7 SPUBLISH),
   * which routes each room's messages to one shard instead of every node (README, Scaling).
   */
  private attachRedisAdapter(server: Server, metrics: MetricsService): void {
    const redis = this.app.get(RedisService);
    const pub = redis.duplicate('notify-gateway:adapter-pub', { failFast: true });
    const sub = redis.duplicate('notify-gateway:adapter-sub');
    if (!pub || !sub) return;
    const onError = (): void => {
      metrics.redisErrors.inc({ client: 'adapter' });
    };
    for (const client of [pub, sub]) client.on('error', onError);
    for (const client of [pub, sub]) guardUnawaitedCommands(client, onError);
    const prefix = `${this.config.redisKeyPrefix}:socket.io`;
    server.adapter(
      this.config.redis.mode === 'cluster'
        ? createShardedAdapter(pub, sub, { channelPrefix: prefix, subscriptionMode: 'dynamic' })
        : createAdapter(pub, sub, { key: prefix, publishOnSpecificResponseChannel: true, requestsTimeout: 3000 }),
    );
    this.redisClients.push(pub, sub);
  }

  private readonly redisClients: { quit(): Promise<unknown> }[] = [];
  private readonly logger = new Logger(NotificationsIoAdapter.name);

  /** Namespaces whose gateway shared its handlers (shared-gateway-handlers.ts): their sockets keep no callbacks. */
  private readonly sharedTables = new WeakSet<object>();
  /** Per socket, for a gateway that did not share its handlers: Nest's callbacks bound to that socket, in the order of its handler table. */
  private readonly socketHandlers = new WeakMap<Socket, MessageMappingProperties['callback'][]>();
  /**
   * Per namespace: one inbound dispatcher for every socket, which socket.io calls with the socket
   * as `this`, in a frozen one-element array that every socket of the namespace shares as its
   * `onAny` list (socket.io only reads it per event; a later `onAny` on a socket would throw
   * rather than add a listener to every socket).
   */
  private readonly dispatchers = new WeakMap<object, readonly AnyListener[]>();
  private budget?: SocketEventBudget;

  /**
   * Nest's IoAdapter builds an RxJS pipeline per socket and per handler (fromEvent → mergeMap →
   * takeUntil(disconnect$)), and a listener per handler would still be a key per event in every
   * socket's listener table (docs/BENCHMARKS.md, section 1). Instead every socket gets one `onAny`
   * listener, shared by all: it spends the event budget (SocketEventBudget, before any guard, for
   * events no handler takes too), then runs the handler as Nest would — payload and ack mapped as
   * Nest maps them, a response with `event` is emitted, any other non-nil response goes to the
   * ack unless the handler acks manually, nothing is sent after the disconnect. A socket keeps
   * only the array of its callbacks.
   */
  override bindMessageHandlers(socket: Socket, handlers: MessageMappingProperties[], transform: (data: unknown) => Observable<unknown>): void {
    let listeners = this.dispatchers.get(socket.nsp);
    if (!listeners) {
      listeners = Object.freeze([this.dispatcher(socket.nsp, handlers, transform)]);
      this.dispatchers.set(socket.nsp, listeners);
    }
    // Nest's callbacks bound to this socket are kept only for a gateway that does not share its handlers.
    if (!this.sharedTables.has(socket.nsp)) {
      this.socketHandlers.set(
        socket,
        handlers.map((handler) => handler.callback),
      );
    }
    // What `socket.onAny(dispatcher)` would do, without an array per socket.
    (socket as unknown as { _anyListeners?: readonly AnyListener[] })._anyListeners = listeners;
  }

  /**
   * The gateway listens for 'disconnect' itself, with one listener for every socket
   * (NotificationGateway.handleConnection): Nest's hook is a closure per socket.
   */
  override bindClientDisconnect(): void {}

  /** The handler table is the gateway's, the same for every socket of a namespace. */
  private dispatcher(namespace: object, handlers: MessageMappingProperties[], transform: (data: unknown) => Observable<unknown>): AnyListener {
    const shared = sharedHandlers(this.app, namespace);
    if (shared) this.sharedTables.add(namespace);
    const table = new Map(handlers.map(({ message, isAckHandledManually }, index) => [String(message), { index, isAckHandledManually, shared: shared?.get(String(message))?.handler }]));
    const budget = (this.budget ??= this.app.get(SocketEventBudget));
    const adapter = this;
    return function (this: Socket, ...packet: unknown[]): void {
      const socket = this as GatewaySocket;
      budget.spend(socket, packet, () => {
        const message = String(packet[0]);
        const entry = table.get(message);
        if (!entry || !socket.connected) return;
        const handler = entry.shared;
        const callback: MessageMappingProperties['callback'] | undefined = handler
          ? (data: unknown, ack: unknown) => handler(socket, data, ack, message)
          : adapter.socketHandlers.get(socket)?.[entry.index];
        if (!callback) return;
        adapter.run(socket, message, callback, packet.slice(1), entry.isAckHandledManually, transform);
      });
    };
  }

  private run(
    socket: Socket,
    message: string,
    callback: MessageMappingProperties['callback'],
    args: unknown[],
    isAckHandledManually: boolean,
    transform: (data: unknown) => Observable<unknown>,
  ): void {
    // As rxjs fromEvent hands them over: one argument as is, several as an array.
    const { data, ack } = this.mapPayload(args.length > 1 ? args : args[0]);
    transform(callback(data, ack)).subscribe({
      next: (response) => {
        // HANDLED_BY_FILTER: WsExceptionFilter has already answered (notification:error and the failed ack).
        if (response === null || response === undefined || response === HANDLED_BY_FILTER || !socket.connected) return;
        const { event, data: eventData } = response as { event?: string; data?: unknown };
        if (event) {
          socket.emit(event, eventData);
          return;
        }
        if (!isAckHandledManually && typeof ack === 'function') (ack as (response: unknown) => void)(response);
      },
      error: (error: unknown) => this.logger.error({ err: error, event: message }, 'message handler failed'),
    });
  }

  override async close(server: Server): Promise<void> {
    await super.close(server);
    await Promise.allSettled(this.redisClients.map((client) => client.quit()));
  }
}
