import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { ServerToClientEvents } from '@notify-gateway/contracts';
import type { AppConfig } from '../config/app-config.js';
import { drainSpreadMs, rebalanceShare } from './drain-hint.js';
import { NotificationFanout } from './notification-fanout.js';

const COUNT_CHANNEL = 'ngw:connection-count';
/** What a draining instance answers: it is leaving, leave it out of the mean. */
const LEAVING = -1;

type SessionNotice = Parameters<ServerToClientEvents['notification:session-expiring']>[0];

/**
 * Evens out the sockets of the cluster after a restart. Nothing else moves them back: while an
 * instance restarts, its clients reconnect to the others and stay there, so after a rolling
 * restart the order of the restarts decides the balance. Every interval each instance asks the
 * others for their socket counts (the adapter's server-side channel, one request per instance,
 * not per socket) and an instance above the mean asks its excess to reconnect, with the same
 * SERVER_SHUTDOWN notice and spread as a drain; the balancer places them again, and the
 * reconnect's catch-up loses nothing. Several rounds converge behind a round-robin balancer.
 */
@Injectable()
export class ConnectionRebalancer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ConnectionRebalancer.name);
  private timer?: NodeJS.Timeout;
  private leaving = false;
  private round: Promise<number> | undefined;
  private listening = false;

  constructor(
    private readonly fanout: NotificationFanout,
    private readonly config: ConfigService<AppConfig, true>,
  ) {}

  onApplicationBootstrap(): void {
    // The gateway attached the namespace during init, before this hook.
    this.answerCounts();
    const { rebalanceIntervalMs } = this.config.get('drain', { infer: true });
    if (rebalanceIntervalMs === 0) return;
    this.timer = setInterval(() => {
      this.round ??= this.rebalance().finally(() => (this.round = undefined));
    }, rebalanceIntervalMs);
    this.timer.unref();
  }

  beforeApplicationShutdown(): void {
    this.leaving = true;
    clearInterval(this.timer);
  }

  /** One round: how many sockets this instance asked to move (0 when balanced, alone or unclustered). */
  async rebalance(): Promise<number> {
    const attached = this.fanout.attached;
    if (!attached?.clustered || this.leaving) return 0;
    const { namespace } = attached;
    this.answerCounts();
    let reported: number[];
    try {
      reported = (await namespace.serverSideEmitWithAck(COUNT_CHANNEL)) as number[];
    } catch (error) {
      // An instance did not answer in time (starting, stopping, Redis slow): next round.
      this.logger.debug({ err: error }, 'connection counts incomplete; not rebalancing this round');
      return 0;
    }
    const others = reported.filter((count) => Number.isSafeInteger(count) && count >= 0);
    const { reconnectRatePerSec, rebalanceIntervalMs } = this.config.get('drain', { infer: true });
    const share = rebalanceShare(namespace.sockets.size, others, (reconnectRatePerSec * rebalanceIntervalMs) / 1000);
    if (share === 0 || this.leaving) return 0;
    const notice: SessionNotice = { code: 'SERVER_SHUTDOWN', reconnectWithinMs: drainSpreadMs(share, reconnectRatePerSec) };
    let moved = 0;
    for (const socket of namespace.sockets.values()) {
      if (moved >= share) break;
      socket.emit('notification:session-expiring', notice);
      // The transport, not the socket: socket.io-client then reconnects by itself (as on a drain).
      socket.conn.close();
      moved += 1;
    }
    this.logger.log({ moved, local: namespace.sockets.size + moved, others, reconnectWithinMs: notice.reconnectWithinMs }, 'rebalancing connections');
    return moved;
  }

  private answerCounts(): void {
    const attached = this.fanout.attached;
    if (!attached?.clustered || this.listening) return;
    this.listening = true;
    const { namespace } = attached;
    namespace.on(COUNT_CHANNEL, (reply: (count: number) => void) => reply(this.leaving ? LEAVING : namespace.sockets.size));
  }
}
