// The backend guide's example (docs/BACKEND.md): another module of the host backend that
// notifies users and ends sessions through the gateway's services. It runs in the test suite.
import { Injectable, Module } from '@nestjs/common';
import type { NotificationView } from '@notify-gateway/contracts';
import { ConnectionService, NotificationService, NotificationsModule } from '../../../src';

@Injectable()
export class OrderNotifier {
  constructor(
    private readonly notifications: NotificationService,
    private readonly connections: ConnectionService,
  ) {}

  /** Resolves with the stored notification once it is committed; delivery follows everywhere. */
  orderShipped(userId: string, orderNumber: string): Promise<NotificationView> {
    return this.notifications.sendToUser(userId, {
      title: 'Your order has shipped',
      content: `Order ${orderNumber} is on its way.`,
      priority: 'high',
      data: { orderNumber },
    });
  }

  /** For the tenant's ADMIN and SUPER_ADMIN users. */
  stockLow(tenantId: string, sku: string): Promise<NotificationView> {
    return this.notifications.sendToTenant(tenantId, { title: 'Stock low', content: `SKU ${sku} is below its threshold.` });
  }

  /**
   * Closes every socket and stream of the user, on every instance. It does not revoke tokens:
   * a client that still holds a valid one can reconnect.
   */
  closeLiveSessions(userId: string): void {
    this.connections.disconnectUser(userId, 'USER_DISCONNECTED');
  }
}

@Module({
  imports: [NotificationsModule],
  providers: [OrderNotifier],
  exports: [OrderNotifier],
})
export class OrderNotificationsModule {}
