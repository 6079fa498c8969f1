import { Logger, OnApplicationBootstrap, OnApplicationShutdown, UseFilters, UseGuards, UsePipes, type BeforeApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import {
  ConnectedSocket,
  MessageBody,
  OnGatewayConnection,
  OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import {
  NOTIFICATIONS_NAMESPACE,
  type AuthRefreshAck,
  type CreateAck,
  type MarkAllReadAck,
  type MarkReadAck,
  type SessionEndCode,
  type SyncAck,
} from '@notify-gateway/contracts';
import type { AppConfig } from '../../config/app-config.js';
import { Roles } from '../../auth/http/auth.decorators.js';
import { TokenVerifier } from '../../auth/token-verifier.js';
import { ApiError } from '../../common/errors/api-error.js';
import { WsExceptionFilter } from './ws-exception.filter.js';
import { WsSessionGuard } from './ws-session.guard.js';
import { EmptyPayloadPipe } from '../../common/pipes/empty-payload.pipe.js';
import { createValidationPipe } from '../../common/validation.js';
import { MetricsService } from '../../observability/metrics.service.js';
import { SecurityEventLogger } from '../../security/security-event.logger.js';
import { AuthRefreshDto } from '../dto/auth-refresh.dto.js';
import { NotificationCreateDto } from '../dto/notification-create.dto.js';
import { NotificationMarkReadDto } from '../dto/notification-mark-read.dto.js';
import { NotificationSyncDto } from '../dto/notification-query.dto.js';
import { drainSpreadMs } from '../drain-hint.js';
import type { GatewayNamespace, GatewaySocket } from './gateway-socket.js';
import { HandshakeAuthenticator } from './handshake-authenticator.js';
import { roomsFor, userRoom } from '../notification-audience.js';
import { NotificationFanout, type EventPayload, type DeliverableEvent, type SessionIdentity, type SessionMatch } from '../notification-fanout.js';
import { NotificationService } from '../notification.service.js';
import { SessionReconciler } from '../session-reconciler.js';
import { outboundQueueBound, type EngineConnection } from './outbound-bound.js';
import { REFRESH_REFUSED, SessionRefresh } from './session-refresh.js';
import { SessionExpiry } from './session-expiry.js';
import { isConfiguredByGatewayAdapter } from './notifications-io.adapter.js';
import { shareGatewayHandlers } from './shared-gateway-handlers.js';
import { closeTransportOnLeave } from './unjoined-connections.js';

const ADAPTER_MISSING =
  'The notifications gateway needs setupNotificationGateway(app) before app.listen(): without its adapter, origins, message sizes and the authentication deadline would not be enforced';

/**
 * Thin transport: sockets are authenticated before they exist (HandshakeAuthenticator), join
 * server-assigned rooms, and lose the session when the token expires. Handlers delegate.
 */
@WebSocketGateway({ namespace: NOTIFICATIONS_NAMESPACE })
@UseGuards(WsSessionGuard)
@UsePipes(createValidationPipe())
@UseFilters(WsExceptionFilter)
export class NotificationGateway implements OnGatewayInit, OnGatewayConnection, OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(NotificationGateway.name);
  private namespace?: GatewayNamespace;
  private unregister?: () => void;
  /** One sweep for every socket's token expiry (no timer per socket). */
  private readonly expiry = new SessionExpiry<GatewaySocket>((socket) => this.expire(socket));
  /** The outbound bound, one listener for every connection; the socket is looked up only to log a violation (rare: no map per socket). */
  private outboundBound?: (this: EngineConnection, packet: { data?: unknown }) => void;
  /**
   * The one 'disconnect' listener of every socket (socket.io calls it with the socket as `this`);
   * NotificationsIoAdapter binds none. It also closes the transport a client's namespace
   * disconnect leaves behind (unjoined-connections.ts), so that a socket has one listener, not two.
   */
  private readonly disconnectListener = ((gateway: NotificationGateway) =>
    function (this: GatewaySocket, reason: string): void {
      gateway.handleDisconnect(this);
      closeTransportOnLeave(this, reason);
    })(this);

  constructor(
    private readonly notifications: NotificationService,
    private readonly fanout: NotificationFanout,
    private readonly handshake: HandshakeAuthenticator,
    private readonly security: SecurityEventLogger,
    private readonly metrics: MetricsService,
    private readonly config: ConfigService<AppConfig, true>,
    private readonly refresh: SessionRefresh,
    private readonly verifier: TokenVerifier,
    private readonly reconciler: SessionReconciler,
  ) {}

  afterInit(namespace: GatewayNamespace): void {
    this.namespace = namespace;
    shareGatewayHandlers(namespace, this);
    namespace.use((socket, next) => void this.handshake.authenticate(socket, next));
    const maxBuffered = this.config.get('ws', { infer: true }).maxBufferedBytes;
    this.outboundBound = outboundQueueBound(maxBuffered, (connection, queued) => {
      const socket = this.socketOfConnection(connection);
      const session = socket?.data;
      this.security.log('SECURITY_VIOLATION', {
        clientId: socket?.id,
        userId: session?.user.userId,
        tenantId: session?.user.tenantId,
        ip: session?.ip,
        reason: 'slow consumer',
        queuedBytes: queued,
        limitBytes: maxBuffered,
      });
    });
    this.fanout.attach(namespace, this.config.get('redis', { infer: true }).mode !== 'none');
    this.unregister = this.fanout.register({
      deliver: <E extends DeliverableEvent>(room: string, event: E, _payload: EventPayload<E>) => {
        // Sockets already got it through the adapter; count what this instance wrote.
        if (event === 'notification:new') this.metrics.notificationsDelivered.inc({ transport: 'websocket' }, this.localRoomSize(room));
      },
      endUserSessions: (userId, code, match) => this.endLocalSessions(userId, code, match),
      sessionUsers: () => this.sessionUsers(),
      reassignUserSessions: (user) => this.reassignLocalSessions(user),
    });
  }

  async handleConnection(socket: GatewaySocket): Promise<void> {
    socket.on('disconnect', this.disconnectListener);
    const { user } = socket.data;
    const rooms = roomsFor(user);
    try {
      await socket.join(rooms);
    } catch (error) {
      this.security.log('ROOM_ASSIGNMENT_FAILED', { clientId: socket.id, userId: user.userId, tenantId: user.tenantId, reason: String(error) });
      socket.disconnect(true);
      return;
    }
    // One line for the connection and the rooms it joined; ROOM_JOIN is for joins after it (docs/OPERATIONS.md).
    this.security.log('WEBSOCKET_CONNECT', {
      clientId: socket.id,
      ip: socket.data.ip,
      origin: socket.data.origin,
      transport: 'websocket',
      userId: user.userId,
      tenantId: user.tenantId,
      via: socket.conn.transport.name,
      rooms,
    });
    this.metrics.connectionsActive.inc({ transport: 'websocket' });
    this.metrics.connectionsTotal.inc({ transport: 'websocket' });
    this.expiry.schedule(socket, user.exp);
    if (this.outboundBound) {
      (socket.conn as unknown as EngineConnection).on('packetCreate', this.outboundBound);
    }
    // Checked before the socket was in its rooms: a revocation or a user change heard meanwhile
    // found nothing here to end or move. The revocation first, in this same turn.
    const revoked = this.verifier.revokedSessionEnd(user);
    if (revoked) {
      this.endSession(socket, revoked);
      return;
    }
    await this.reconciler.admitted(user);
  }

  private handleDisconnect(socket: GatewaySocket): void {
    const session = socket.data;
    if (!session?.user) return;
    this.expiry.cancel(socket, session.user.exp);
    session.lease.release();
    this.metrics.connectionsActive.dec({ transport: 'websocket' });
    this.metrics.connectionDuration.observe({ transport: 'websocket' }, (Date.now() - socket.handshake.issued) / 1000);
  }

  @SubscribeMessage('notification:mark-read')
  async markRead(@ConnectedSocket() socket: GatewaySocket, @MessageBody() body: NotificationMarkReadDto): Promise<MarkReadAck> {
    await this.notifications.markRead(socket.data.user, body.notificationId, socket.id);
    return { ok: true };
  }

  @SubscribeMessage('notification:mark-all-read')
  async markAllRead(@ConnectedSocket() socket: GatewaySocket, @MessageBody(EmptyPayloadPipe) _body: Record<string, never>): Promise<MarkAllReadAck> {
    const count = await this.notifications.markAllRead(socket.data.user, socket.id);
    return { ok: true, count };
  }

  @SubscribeMessage('notification:sync')
  async sync(@ConnectedSocket() socket: GatewaySocket, @MessageBody() body: NotificationSyncDto): Promise<SyncAck> {
    if (body.position !== undefined && body.after !== undefined) {
      throw new ApiError(400, 'VALIDATION_FAILED', undefined, [{ field: 'position', messages: ['position and after are exclusive'] }]);
    }
    const page = await this.notifications.sync(socket.data.user, body);
    return { ok: true, notifications: page.items, cursor: page.cursor, hasMore: page.hasMore, position: page.position, streams: page.streams, reset: page.reset };
  }

  @SubscribeMessage('notification:create')
  @Roles('ADMIN', 'SUPER_ADMIN')
  async create(@ConnectedSocket() socket: GatewaySocket, @MessageBody() body: NotificationCreateDto): Promise<CreateAck> {
    const notification = await this.notifications.createAs(socket.data.user, body);
    return { ok: true, notification };
  }

  /**
   * In-band refresh: same socket, same rooms, the expiry moved to the new token's. Counted by
   * the per-user event budget like every event. A refused token ends the session.
   */
  @SubscribeMessage('auth:refresh')
  async refreshToken(@ConnectedSocket() socket: GatewaySocket, @MessageBody() body: AuthRefreshDto): Promise<AuthRefreshAck> {
    const outcome = await this.refresh.verify(socket, body.token);
    if (!outcome.ok) {
      socket.emit('notification:session-expiring', { code: 'UNAUTHORIZED' });
      // After the ack: it is written when this promise settles, before the next macrotask.
      setImmediate(() => socket.disconnect(true));
      return REFRESH_REFUSED;
    }
    if (!socket.connected) return REFRESH_REFUSED;
    this.expiry.cancel(socket, socket.data.user.exp);
    socket.data.user = outcome.user;
    this.expiry.schedule(socket, outcome.user.exp);
    return { ok: true, expiresAt: outcome.user.exp };
  }

  /**
   * After the gateways are wired, before listen: Nest's default adapter would serve the namespace
   * with no origin check, size bound or authentication deadline, so the app does not start on it.
   */
  onApplicationBootstrap(): void {
    if (this.namespace && !isConfiguredByGatewayAdapter(this.namespace.server)) throw new Error(ADAPTER_MISSING);
  }

  /** Before the server closes: tell clients to reconnect elsewhere, then drop the transports. */
  beforeApplicationShutdown(): void {
    const namespace = this.namespace;
    if (!namespace) return;
    // Spread over a window sized to this instance's sockets: a restart is not a reconnect storm.
    const reconnectWithinMs = drainSpreadMs(namespace.sockets.size, this.config.get('drain', { infer: true }).reconnectRatePerSec);
    for (const socket of namespace.sockets.values()) {
      socket.emit('notification:session-expiring', { code: 'SERVER_SHUTDOWN', reconnectWithinMs });
      // Closing the transport (not the socket) makes socket.io-client reconnect on its own.
      socket.conn.close();
    }
  }

  onApplicationShutdown(): void {
    this.unregister?.();
    this.expiry.stop();
  }

  /** The token's `exp` has passed (swept once a second; WsSessionGuard also refuses any event after it). */
  private expire(socket: GatewaySocket): void {
    const { user } = socket.data;
    this.security.log('TOKEN_EXPIRED', { clientId: socket.id, userId: user.userId, tenantId: user.tenantId, ip: socket.data.ip });
    socket.emit('notification:session-expiring', { code: 'TOKEN_EXPIRED' });
    socket.disconnect(true);
  }

  private endLocalSessions(userId: string, code: SessionEndCode, match?: SessionMatch): void {
    const namespace = this.namespace;
    if (!namespace) return;
    const ids = namespace.adapter.rooms.get(userRoom(userId));
    for (const id of [...(ids ?? [])]) {
      const socket = namespace.sockets.get(id);
      if (!socket) continue;
      if (match && !match(socket.data.user)) continue;
      this.endSession(socket, code);
    }
  }

  private endSession(socket: GatewaySocket, code: SessionEndCode): void {
    this.logger.log({ clientId: socket.id, userId: socket.data.user.userId, code }, 'ending session');
    socket.emit('notification:session-expiring', { code });
    socket.disconnect(true);
  }

  private *sessionUsers(): Iterable<string> {
    for (const socket of this.namespace?.sockets.values() ?? []) if (socket.data?.user) yield socket.data.user.userId;
  }

  /** A role or tenant change: the sockets leave the rooms they lost and join the ones they gained. */
  private reassignLocalSessions(next: SessionIdentity): void {
    const namespace = this.namespace;
    if (!namespace) return;
    for (const id of namespace.adapter.rooms.get(userRoom(next.userId)) ?? []) {
      const socket = namespace.sockets.get(id);
      const current = socket?.data.user;
      if (!socket || !current || (current.role === next.role && current.tenantId === next.tenantId)) continue;
      const user = { ...current, role: next.role, tenantId: next.tenantId };
      const [before, after] = [roomsFor(current), roomsFor(user)];
      const lost = before.filter((room) => !after.includes(room));
      const gained = after.filter((room) => !before.includes(room));
      // Rights first: handlers read socket.data.user, so nothing runs with the old role from here on.
      socket.data.user = user;
      // The in-memory and Redis adapters change membership synchronously; only a sharded subscribe may fail later.
      const changes = [...lost.map((room) => socket.leave(room)), socket.join(gained)].map((change) => Promise.resolve(change));
      Promise.all(changes).catch((error: unknown) => {
        this.security.log('ROOM_ASSIGNMENT_FAILED', { clientId: id, userId: user.userId, tenantId: user.tenantId, reason: String(error) });
        socket.disconnect(true);
      });
      this.logger.log({ clientId: id, userId: user.userId, tenantId: user.tenantId, role: user.role, rooms: after }, 'session rooms re-assigned');
      for (const room of gained) this.security.log('ROOM_JOIN', { clientId: id, userId: user.userId, tenantId: user.tenantId, room, reason: 'role or tenant change' });
    }
  }

  private socketOfConnection(connection: EngineConnection): GatewaySocket | undefined {
    for (const socket of this.namespace?.sockets.values() ?? []) if ((socket.conn as unknown) === connection) return socket;
    return undefined;
  }

  private localRoomSize(room: string): number {
    return this.namespace?.adapter.rooms.get(room)?.size ?? 0;
  }
}
