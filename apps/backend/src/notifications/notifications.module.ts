import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { WsExceptionFilter } from './socket/ws-exception.filter.js';
import { WsSessionGuard } from './socket/ws-session.guard.js';
import { ConnectionAdmission } from './admission/connection-admission.js';
import { ConnectionService } from './connection.service.js';
import { ConnectionRebalancer } from './connection-rebalancer.js';
import { EngineAdmission } from './socket/engine-admission.js';
import { HandshakeAuthenticator } from './socket/handshake-authenticator.js';
import { NotificationFanout } from './notification-fanout.js';
import { CatchUpGate } from './catch-up-gate.js';
import { NotificationReader } from './notification-reader.js';
import { NotificationWriter } from './notification-writer.js';
import { PublishDrain } from './publish-drain.js';
import { NotificationGateway } from './socket/notification.gateway.js';
import { NotificationRepository } from './notification.repository.js';
import { NotificationService } from './notification.service.js';
import { NotificationsController } from './notifications.controller.js';
import { NotificationPruner } from './retention/notification-pruner.js';
import { ReadStateRepository } from './read-state/read-state.repository.js';
import { SessionReconciler } from './session-reconciler.js';
import { SocketEventBudget } from './socket/socket-event-budget.js';
import { RevokedSessions } from './revoked-sessions.js';
import { SessionRefresh } from './socket/session-refresh.js';
import { NotificationsStreamController } from './sse/notifications-stream.controller.js';
import { SseHub } from './sse/sse-hub.js';
import { StreamAuthenticator } from './sse/stream-authenticator.js';
import { StreamReplay } from './sse/stream-replay.js';
import { StreamTicketStore } from './sse/stream-ticket.store.js';
import { GatewayConfigModule } from '../config/gateway-config.module.js';

@Module({
  imports: [AuthModule, GatewayConfigModule],
  // The stream routes first: /notifications/stream must never reach a parameterised route.
  controllers: [NotificationsStreamController, NotificationsController],
  providers: [
    NotificationService,
    NotificationRepository,
    CatchUpGate,
    NotificationReader,
    NotificationWriter,
    PublishDrain,
    NotificationFanout,
    ConnectionService,
    NotificationGateway,
    ConnectionAdmission,
    HandshakeAuthenticator,
    SessionReconciler,
    WsSessionGuard,
    SocketEventBudget,
    EngineAdmission,
    WsExceptionFilter,
    SseHub,
    StreamAuthenticator,
    StreamReplay,
    StreamTicketStore,
    SessionRefresh,
    RevokedSessions,
    NotificationPruner,
    ReadStateRepository,
    ConnectionRebalancer,
  ],
  exports: [NotificationService, ConnectionService],
})
export class NotificationsModule {}
