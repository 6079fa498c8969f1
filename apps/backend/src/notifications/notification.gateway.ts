import { Logger, OnApplicationShutdown, UseFilters, UseGuards, UseInterceptors, UsePipes, type BeforeApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import {
  ConnectedSocket,
  MessageBody,
  OnGatewayConnection,
  OnGatewayDisconnect,
  OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import {
  NOTIFICATIONS_NAMESPACE,
  type CreateAck,
  type MarkAllReadAck,
  type MarkReadAck,
  type SessionEndCode,
  type SyncAck,
} from '@notify-gateway/contracts';
import type { AppConfig } from '../config/app-config.js';
import { Roles } from '../common/decorators/auth.decorators.js';
import { ApiError } from '../common/errors/api-error.js';
import { WsExceptionFilter } from '../common/filters/ws-exception.filter.js';
import { WsJwtGuard } from '../common/guards/ws-jwt.guard.js';
import { WsRateLimitInterceptor } from '../common/interceptors/ws-rate-limit.interceptor.js';
import { EmptyPayloadPipe } from '../common/pipes/empty-payload.pipe.js';
import { createValidationPipe } from '../common/validation.js';
import { MetricsService } from '../observability/metrics.service.js';
import { SecurityEventLogger } from '../security/security-event.logger.js';
import { NotificationCreateDto } from './dto/notification-create.dto.js';
import { NotificationMarkReadDto } from './dto/notification-mark-read.dto.js';
import { NotificationSyncDto } from './dto/notification-query.dto.js';
import type { GatewayNamespace, GatewaySocket } from './gateway-socket.js';
import { HandshakeAuthenticator } from './handshake-authenticator.js';
import { roomsFor, userRoom } from './notification-audience.js';
import { NotificationFanout, type EventPayload, type DeliverableEvent } from './notification-fanout.js';
import { NotificationService } from './notification.service.js';
import { boundOutboundQueue } from './outbound-bound.js';

/** Longest timer Node accepts; tokens living longer are re-checked per message anyway. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Thin transport: sockets are authenticated before they exist (HandshakeAuthenticator), join
 * server-assigned rooms, and lose the session when the token expires. Handlers delegate.
 */
@WebSocketGateway({ namespace: NOTIFICATIONS_NAMESPACE })
@UseGuards(WsJwtGuard)
@UseInterceptors(WsRateLimitInterceptor)
@UsePipes(createValidationPipe())
@UseFilters(WsExceptionFilter)
export class NotificationGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(NotificationGateway.name);
  private namespace?: GatewayNamespace;
  private unregister?: () => void;

  constructor(
    private readonly notifications: NotificationService,
    private readonly fanout: NotificationFanout,
    private readonly handshake: HandshakeAuthenticator,
    private readonly security: SecurityEventLogger,
    private readonly metrics: MetricsService,
    private readonly config: ConfigService<AppConfig, true>,
  ) {}

  afterInit(namespace: GatewayNamespace): void {
    this.namespace = namespace;
    namespace.use((socket, next) => void this.handshake.authenticate(socket, next));
    this.fanout.attach(namespace, this.config.get('redis', { infer: true }).mode !== 'none');
    this.unregister = this.fanout.register({
      deliver: <E extends DeliverableEvent>(room: string, event: E, _payload: EventPayload<E>) => {
        // Sockets already got it through the adapter; count what this instance wrote.
        if (event === 'notification:new') this.metrics.notificationsDelivered.inc({ transport: 'websocket' }, this.localRoomSize(room));
      },
      endUserSessions: (userId, code) => this.endLocalSessions(userId, code),
    });
  }

  async handleConnection(socket: GatewaySocket): Promise<void> {
    const { user } = socket.data;
    const rooms = roomsFor(user);
    try {
      await socket.join(rooms);
    } catch (error) {
      this.security.log('ROOM_ASSIGNMENT_FAILED', { clientId: socket.id, userId: user.userId, tenantId: user.tenantId, reason: String(error) });
      socket.disconnect(true);
      return;
    }
    for (const room of rooms) {
      this.security.log('ROOM_JOIN', { clientId: socket.id, userId: user.userId, tenantId: user.tenantId, room });
    }
    this.metrics.connectionsActive.inc({ transport: 'websocket' });
    this.metrics.connectionsTotal.inc({ transport: 'websocket' });
    this.scheduleExpiry(socket);
    const maxBuffered = this.config.get('ws', { infer: true }).maxBufferedBytes;
    boundOutboundQueue(socket.conn as unknown as Parameters<typeof boundOutboundQueue>[0], maxBuffered, (queued) =>
      this.security.log('SECURITY_VIOLATION', { clientId: socket.id, userId: user.userId, tenantId: user.tenantId, ip: socket.data.ip, reason: 'slow consumer', queuedBytes: queued, limitBytes: maxBuffered }),
    );
  }

  handleDisconnect(socket: GatewaySocket): void {
    const session = socket.data;
    if (!session?.user) return;
    clearTimeout(session.expiryTimer);
    session.lease.release();
    this.metrics.connectionsActive.dec({ transport: 'websocket' });
    this.metrics.connectionDuration.observe({ transport: 'websocket' }, (Date.now() - session.connectedAt) / 1000);
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

  /** Before the server closes: tell clients to reconnect elsewhere, then drop the transports. */
  beforeApplicationShutdown(): void {
    const namespace = this.namespace;
    if (!namespace) return;
    for (const socket of namespace.sockets.values()) {
      socket.emit('notification:session-expiring', { code: 'SERVER_SHUTDOWN' });
      // Closing the transport (not the socket) makes socket.io-client reconnect on its own.
      socket.conn.close();
    }
  }

  onApplicationShutdown(): void {
    this.unregister?.();
  }

  private scheduleExpiry(socket: GatewaySocket): void {
    const { user } = socket.data;
    const delay = Math.min(Math.max(user.exp * 1000 - Date.now(), 0), MAX_TIMER_MS);
    socket.data.expiryTimer = setTimeout(() => {
      this.security.log('TOKEN_EXPIRED', { clientId: socket.id, userId: user.userId, tenantId: user.tenantId, ip: socket.data.ip });
      socket.emit('notification:session-expiring', { code: 'TOKEN_EXPIRED' });
      socket.disconnect(true);
    }, delay);
    socket.data.expiryTimer.unref();
  }

  private endLocalSessions(userId: string, code: SessionEndCode): void {
    const namespace = this.namespace;
    if (!namespace) return;
    const ids = namespace.adapter.rooms.get(userRoom(userId));
    for (const id of ids ?? []) {
      const socket = namespace.sockets.get(id);
      if (!socket) continue;
      this.logger.log({ clientId: id, userId, code }, 'ending session');
      socket.emit('notification:session-expiring', { code });
      socket.disconnect(true);
    }
  }

  private localRoomSize(room: string): number {
    return this.namespace?.adapter.rooms.get(room)?.size ?? 0;
  }
}
