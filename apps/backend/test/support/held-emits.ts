import type { INestApplication } from '@nestjs/common';
import { NotificationFanout } from '../../src/notifications/notification-fanout';

/**
 * Holds back one instance's `notification:new` emits until released: plays "an earlier commit
 * whose emit is still on its way" (another pool connection, event-loop turn or instance). The
 * notification is committed as usual; only its delivery waits. Nothing is replaced but timing.
 */
export class HeldEmits {
  private held: (() => void)[] = [];
  private holding = false;

  private constructor(fanout: NotificationFanout) {
    const publish = fanout.publish.bind(fanout);
    fanout.publish = ((...args: Parameters<NotificationFanout['publish']>) => {
      if (this.holding && args[1] === 'notification:new') this.held.push(() => publish(...args));
      else publish(...args);
    }) as NotificationFanout['publish'];
  }

  static on(app: INestApplication): HeldEmits {
    return new HeldEmits(app.get(NotificationFanout));
  }

  hold(): void {
    this.holding = true;
  }

  get count(): number {
    return this.held.length;
  }

  /** Sends what was held, in the order it was published, and stops holding. */
  release(): void {
    this.holding = false;
    for (const emit of this.held.splice(0)) emit();
  }
}
