import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { SessionEndCode } from '@notify-gateway/contracts';
import type { Response } from 'express';
import type { AppConfig } from '../../config/app-config.js';
import { MetricsService } from '../../observability/metrics.service.js';
import type { ConnectionLease } from '../../security/connection-limiter.js';
import { SecurityEventLogger } from '../../security/security-event.logger.js';
import { roomsFor, userRoom } from '../notification-audience.js';
import { NotificationFanout, type DeliverableEvent, type EventPayload, type LocalTransport, type SessionIdentity, type SessionMatch } from '../notification-fanout.js';
import { SseStream, type SseStreamObserver, type StreamSession } from './sse-stream.js';
import { encodeEvent } from './sse-wire.js';

export interface SseHubStats {
  streams: number;
  /** Bytes the open streams hold right now. */
  bufferedBytes: number;
  /** Most any stream ever held, open or closed. */
  peakBufferedBytes: number;
}

/**
 * This instance's SSE streams, as the fan-out's second local transport: the fan-out hands
 * every published event to every instance; the hub writes it to the streams in that room.
 */
@Injectable()
export class SseHub implements LocalTransport, OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(SseHub.name);
  private readonly streams = new Set<SseStream>();
  private readonly byRoom = new Map<string, Set<SseStream>>();
  private readonly options: AppConfig['sse'];
  private peakOfClosed = 0;
  private unregister?: () => void;

  constructor(
    private readonly fanout: NotificationFanout,
    private readonly security: SecurityEventLogger,
    private readonly metrics: MetricsService,
    config: ConfigService<AppConfig, true>,
  ) {
    this.options = config.get('sse', { infer: true });
  }

  onModuleInit(): void {
    this.unregister = this.fanout.register(this);
  }

  /** Starts the stream on `res` and indexes it by room; null when the client already left. */
  open(res: Response, session: StreamSession, lease: ConnectionLease, catchingUp: boolean): SseStream | null {
    if (res.destroyed || res.closed || res.socket?.destroyed !== false) {
      lease.release();
      return null;
    }
    const stream = new SseStream(lease.id, session, res, this.options, this.observer(lease));
    this.streams.add(stream);
    this.index(stream);
    this.metrics.sseStreams.set(this.streams.size);
    this.metrics.connectionsActive.inc({ transport: 'sse' });
    this.metrics.connectionsTotal.inc({ transport: 'sse' });
    stream.open(catchingUp);
    return stream;
  }

  /** `exceptSocketId` names a socket.io socket; a stream never is one, so it is not skipped. */
  deliver<E extends DeliverableEvent>(room: string, event: E, payload: EventPayload<E>): void {
    const members = this.byRoom.get(room);
    if (!members) return;
    // Serialised once for the room: only each stream's `id:` line differs. No copy of the room:
    // a stream cut in this loop leaves it on its 'close' event, after the loop.
    const encoded = encodeEvent(event, payload);
    let written = 0;
    for (const stream of members) {
      if (stream.send(event, payload, encoded) && event === 'notification:new') written += 1;
    }
    if (written > 0) this.metrics.notificationsDelivered.inc({ transport: 'sse' }, written);
  }

  endUserSessions(userId: string, code: SessionEndCode, match?: SessionMatch): void {
    for (const stream of [...(this.byRoom.get(userRoom(userId)) ?? [])]) {
      if (match && !match(stream.session.user)) continue;
      this.logger.log({ clientId: stream.id, userId, code }, 'ending stream');
      stream.end(code);
    }
  }

  *sessionUsers(): Iterable<string> {
    for (const stream of this.streams) yield stream.session.user.userId;
  }

  /** A role or tenant change: the streams are re-indexed under the rooms of the new role and tenant. */
  reassignUserSessions(next: SessionIdentity): void {
    for (const stream of [...(this.byRoom.get(userRoom(next.userId)) ?? [])]) {
      const { session } = stream;
      if (session.user.role === next.role && session.user.tenantId === next.tenantId) continue;
      this.unindex(stream);
      session.user = { ...session.user, role: next.role, tenantId: next.tenantId };
      session.rooms = roomsFor(session.user);
      this.index(stream);
      stream.reassigned();
      this.logger.log({ clientId: stream.id, userId: next.userId, tenantId: next.tenantId, role: next.role, rooms: session.rooms }, 'stream rooms re-assigned');
    }
  }

  /** Tells every client to reconnect elsewhere before the server closes. */
  beforeApplicationShutdown(): void {
    for (const stream of [...this.streams]) stream.end('SERVER_SHUTDOWN');
  }

  onApplicationShutdown(): void {
    this.unregister?.();
  }

  /** What this instance holds for its streams; tests and operators read it. */
  stats(): SseHubStats {
    let bufferedBytes = 0;
    let peakBufferedBytes = this.peakOfClosed;
    for (const stream of this.streams) {
      bufferedBytes += stream.bufferedBytes;
      peakBufferedBytes = Math.max(peakBufferedBytes, stream.peakBufferedBytes);
    }
    return { streams: this.streams.size, bufferedBytes, peakBufferedBytes };
  }

  private observer(lease: ConnectionLease): SseStreamObserver {
    const fields = (stream: SseStream) => ({
      clientId: stream.id,
      userId: stream.session.user.userId,
      tenantId: stream.session.user.tenantId,
      ip: stream.session.ip,
      origin: stream.session.origin,
      transport: 'sse' as const,
    });
    return {
      slowConsumer: (stream, wouldQueueBytes) =>
        this.security.log('SECURITY_VIOLATION', { ...fields(stream), reason: 'slow consumer', wouldQueueBytes, limitBytes: this.options.maxBufferedBytes }),
      tokenExpired: (stream) => this.security.log('TOKEN_EXPIRED', fields(stream)),
      closed: (stream) => {
        lease.release();
        this.remove(stream);
      },
    };
  }

  private index(stream: SseStream): void {
    for (const room of stream.session.rooms) {
      const members = this.byRoom.get(room) ?? new Set<SseStream>();
      members.add(stream);
      this.byRoom.set(room, members);
    }
  }

  private unindex(stream: SseStream): void {
    for (const room of stream.session.rooms) {
      const members = this.byRoom.get(room);
      members?.delete(stream);
      if (members?.size === 0) this.byRoom.delete(room);
    }
  }

  private remove(stream: SseStream): void {
    if (!this.streams.delete(stream)) return;
    this.unindex(stream);
    this.peakOfClosed = Math.max(this.peakOfClosed, stream.peakBufferedBytes);
    this.metrics.sseStreams.set(this.streams.size);
    this.metrics.connectionsActive.dec({ transport: 'sse' });
    this.metrics.connectionDuration.observe({ transport: 'sse' }, (Date.now() - stream.openedAt) / 1000);
  }
}
