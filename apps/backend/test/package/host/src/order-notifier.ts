import { Injectable } from '@nestjs/common';
import { ConnectionService, NotificationService } from '@notify-gateway/backend';
import { HostDatabase } from './host-database';

@Injectable()
export class OrderNotifier {
  constructor(
    private readonly notifications: NotificationService,
    private readonly connections: ConnectionService,
    private readonly db: HostDatabase,
  ) {}

  orderShipped(userId: string, orderNumber: string) {
    return this.notifications.sendToUser(userId, {
      title: 'Your order has shipped',
      content: `Order ${orderNumber} is on its way.`,
      priority: 'high',
      data: { orderNumber },
    });
  }

  /** The host's table says who is active; the gateway then ends the user's live sessions. */
  async deactivate(userId: string): Promise<void> {
    await this.db.pool.query('UPDATE users SET active = false WHERE id = $1', [userId]);
    this.connections.disconnectUser(userId, 'USER_DISCONNECTED');
  }
}
