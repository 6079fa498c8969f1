import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { UserDirectory, type DirectoryUser } from '../auth/user-directory.js';
import { UserStateChannel } from '../auth/user-state-channel.js';
import type { AppConfig } from '../config/app-config.js';
import { NotificationFanout, type SessionIdentity } from './notification-fanout.js';

/** Users re-read per query of the periodic re-check. */
const SWEEP_BATCH = 200;

/**
 * Keeps this instance's live sessions in step with the users' state in PostgreSQL: an inactive
 * or deleted user's sessions end, a role or tenant change moves them into the right rooms. It
 * runs when a change is announced (UserStateChannel), when a socket event finds a change
 * (WsSessionGuard), when the Redis link comes back (changes may have been missed), and every
 * USER_STATE_SWEEP_INTERVAL_MS for changes nobody announced.
 */
@Injectable()
export class SessionReconciler implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(SessionReconciler.name);
  private readonly intervalMs: number;
  private timer?: NodeJS.Timeout;
  private sweeping: Promise<void> | null = null;
  private sweepAgain = false;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    private readonly directory: UserDirectory,
    private readonly channel: UserStateChannel,
    private readonly fanout: NotificationFanout,
    config: ConfigService<AppConfig, true>,
  ) {
    this.intervalMs = config.get('userState', { infer: true }).sweepIntervalMs;
  }

  onModuleInit(): void {
    this.unsubscribe.push(
      this.channel.onChange((userId) => this.recheck(userId)),
      this.channel.onResync(() => this.sweep()),
    );
    this.timer = setInterval(() => void this.sweep(), this.intervalMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    for (const unsubscribe of this.unsubscribe) unsubscribe();
  }

  /** Applies a user's current state (null: unknown) to this instance's sessions of that user. */
  apply(userId: string, state: DirectoryUser | null): void {
    if (!state?.isActive) {
      this.fanout.endLocalSessions(userId, 'USER_DISCONNECTED');
      return;
    }
    this.fanout.reassignLocalSessions({ userId: state.id, tenantId: state.tenantId, role: state.role });
  }

  /**
   * A session just became one `apply` reaches (in its rooms, its stream open), on a user read
   * before that: a change announced in between found nothing here to apply to. The user-state
   * cache answers unless the user was invalidated since that read. On failure the periodic
   * re-check applies it.
   */
  async admitted(user: SessionIdentity): Promise<void> {
    try {
      const state = await this.directory.findById(user.userId);
      if (!state?.isActive || state.role !== user.role || state.tenantId !== user.tenantId) this.apply(user.userId, state);
    } catch (error) {
      this.logger.warn({ err: error, userId: user.userId }, 'session re-check against the database failed');
    }
  }

  private async recheck(userId: string): Promise<void> {
    this.apply(userId, await this.directory.findById(userId));
  }

  /** Re-reads every user with a session here, in small batches; one sweep at a time. */
  sweep(): Promise<void> {
    if (this.sweeping) {
      this.sweepAgain = true;
      return this.sweeping;
    }
    this.sweeping = this.runSweeps().finally(() => {
      this.sweeping = null;
    });
    return this.sweeping;
  }

  private async runSweeps(): Promise<void> {
    do {
      this.sweepAgain = false;
      try {
        await this.sweepOnce();
      } catch (error) {
        // The database is down: the next sweep tries again; nothing here is lost meanwhile.
        this.logger.warn({ err: error }, 'session re-check against the database failed');
        return;
      }
    } while (this.sweepAgain);
  }

  private async sweepOnce(): Promise<void> {
    const users = [...this.fanout.localSessionUsers()];
    for (let start = 0; start < users.length; start += SWEEP_BATCH) {
      const batch = users.slice(start, start + SWEEP_BATCH);
      const states = await this.directory.findFresh(batch);
      for (const userId of batch) this.apply(userId, states.get(userId) ?? null);
      await nextTurn();
    }
  }
}
