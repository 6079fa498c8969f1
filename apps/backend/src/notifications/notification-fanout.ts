import { Injectable, Logger } from '@nestjs/common';
import type { ServerToClientEvents, SessionEndCode } from '@notify-gateway/contracts';
import type { Namespace } from 'socket.io';
import type { AuthenticatedUser } from '../auth/authenticated-user.js';
import { UserDirectory } from '../auth/user-directory.js';
import { MetricsService } from '../observability/metrics.service.js';

/** Picks the sessions to end by what their token said (e.g. its jti); absent: all of the user's. */
export type SessionMatch = (user: AuthenticatedUser) => boolean;

export type DeliverableEvent = 'notification:new' | 'notification:read';
export type EventPayload<E extends DeliverableEvent> = Parameters<ServerToClientEvents[E]>[0];

/** A transport on this instance that holds user sessions (socket.io, SSE). */
export interface LocalTransport {
  /** Writes an event to this instance's sessions in `room`, except `exceptSocketId`. */
  deliver?<E extends DeliverableEvent>(room: string, event: E, payload: EventPayload<E>, exceptSocketId?: string): void;
  /** Ends this instance's sessions of `userId` (those `match` picks), telling them why. */
  endUserSessions(userId: string, code: SessionEndCode, match?: SessionMatch): void;
  /** The users holding a session on this instance (for the periodic re-check). */
  sessionUsers?(): Iterable<string>;
  /** Moves this instance's sessions of `user.userId` whose role or tenant differ into the rooms of the new ones. */
  reassignUserSessions?(user: SessionIdentity): void;
}

/** What decides a session's rooms and rights. */
export type SessionIdentity = Pick<AuthenticatedUser, 'userId' | 'tenantId' | 'role'>;

const STREAM_CHANNEL = 'ngw:stream-deliver';
const END_SESSIONS_CHANNEL = 'ngw:end-user-sessions';

/**
 * The one fan-out path. Sockets get events through the socket.io adapter (Redis carries room
 * emits to every instance); other transports get the same events on every instance through
 * the adapter's server-side channel, so no transport copies the room logic.
 */
@Injectable()
export class NotificationFanout {
  private readonly logger = new Logger(NotificationFanout.name);
  private namespace: Namespace | null = null;
  private clustered = false;
  private readonly transports = new Set<LocalTransport>();

  constructor(
    private readonly metrics: MetricsService,
    private readonly users: UserDirectory,
  ) {}

  /** Called by the gateway once the namespace exists. */
  attach(namespace: Namespace, clustered: boolean): void {
    this.namespace = namespace;
    this.clustered = clustered;
    namespace.on(STREAM_CHANNEL, (room: string, event: DeliverableEvent, payload: EventPayload<DeliverableEvent>, except?: string) =>
      this.deliverLocally(room, event, payload, except),
    );
    namespace.on(END_SESSIONS_CHANNEL, (userId: string, code: SessionEndCode) => this.endLocally(userId, code));
  }

  /** The namespace once the gateway attached it, and whether other instances share it. */
  get attached(): { namespace: Namespace; clustered: boolean } | null {
    return this.namespace ? { namespace: this.namespace, clustered: this.clustered } : null;
  }

  register(transport: LocalTransport): () => void {
    this.transports.add(transport);
    return () => this.transports.delete(transport);
  }

  publish<E extends DeliverableEvent>(room: string, event: E, payload: EventPayload<E>, exceptSocketId?: string): void {
    const namespace = this.namespace;
    // Alone, with nobody in the room here, nobody can receive it: skip the packet's encoding.
    if (namespace && (this.clustered || namespace.adapter.rooms.has(room))) {
      const target = exceptSocketId ? namespace.to(room).except(exceptSocketId) : namespace.to(room);
      (target.emit as (event: string, payload: unknown) => boolean)(event, payload);
      if (this.clustered) this.serverSideEmit(STREAM_CHANNEL, room, event, payload, exceptSocketId ?? null);
    }
    this.deliverLocally(room, event, payload, exceptSocketId);
  }

  /** Ends a user's sessions on every instance. */
  endUserSessions(userId: string, code: SessionEndCode): void {
    if (this.clustered) this.serverSideEmit(END_SESSIONS_CHANNEL, userId, code);
    this.endLocally(userId, code);
  }

  /**
   * This instance only: for a caller that tells the other instances itself (the user-state and
   * token-revocation channels); `match` picks which of the user's sessions end.
   */
  endLocalSessions(userId: string, code: SessionEndCode, match?: SessionMatch): void {
    this.endLocally(userId, code, match);
  }

  reassignLocalSessions(user: SessionIdentity): void {
    for (const transport of this.transports) transport.reassignUserSessions?.(user);
  }

  localSessionUsers(): Set<string> {
    const users = new Set<string>();
    for (const transport of this.transports) for (const userId of transport.sessionUsers?.() ?? []) users.add(userId);
    return users;
  }

  private serverSideEmit(channel: string, ...args: unknown[]): void {
    try {
      this.namespace?.serverSideEmit(channel, ...args);
    } catch (error) {
      this.metrics.redisErrors.inc({ client: 'adapter' });
      this.logger.warn({ err: error, channel }, 'cross-instance fan-out failed; clients catch up from the database');
    }
  }

  private deliverLocally<E extends DeliverableEvent>(room: string, event: E, payload: EventPayload<E>, except?: string | null): void {
    for (const transport of this.transports) transport.deliver?.(room, event, payload, except ?? undefined);
  }

  private endLocally(userId: string, code: SessionEndCode, match?: SessionMatch): void {
    // A session cut for a change the cache has not heard of yet (the invalidation travels on
    // another channel, or the host updated the row itself): the reconnect must read the database.
    this.users.forget(userId);
    for (const transport of this.transports) transport.endUserSessions(userId, code, match);
  }
}
