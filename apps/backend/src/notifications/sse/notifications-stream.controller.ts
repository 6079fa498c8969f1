import { Controller, Get, Header, HttpCode, Logger, Post, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOkResponse, ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { StreamTicketResponse } from '@notify-gateway/contracts';
import type { Request, Response } from 'express';
import type { AuthenticatedUser } from '../../auth/authenticated-user.js';
import { clientIp } from '../../common/client-ip.js';
import { CurrentUser, Public } from '../../auth/http/auth.decorators.js';
import { TokenVerifier } from '../../auth/token-verifier.js';
import { ApiError, isDeliberateRefusal } from '../../common/errors/api-error.js';
import { SpendBudget } from '../../auth/http/request-budget.guard.js';
import { ApiErrors } from '../../common/openapi/api-errors.decorator.js';
import { StreamTicketDto } from '../../common/openapi/response.dto.js';
import { ConnectionAdmission } from '../admission/connection-admission.js';
import { RequestBudgets } from '../../security/request-budgets.js';
import { SecurityEventLogger } from '../../security/security-event.logger.js';
import { roomsFor } from '../notification-audience.js';
import { SessionReconciler } from '../session-reconciler.js';
import { SseHub } from './sse-hub.js';
import { StreamAuthenticator } from './stream-authenticator.js';
import { decodePosition, PositionSyntaxError } from '../streams/stream-position.js';
import { CURSOR_SHAPE, StreamReplay, type ReplayStart } from './stream-replay.js';
import { StreamTicketStore } from './stream-ticket.store.js';
import { GatewayHttp } from '../../auth/http/gateway-http.decorator.js';

/** The SSE transport: tickets for EventSource, and the stream itself. */
@ApiTags('notifications')
@GatewayHttp()
@Controller('notifications')
export class NotificationsStreamController {
  private readonly logger = new Logger(NotificationsStreamController.name);

  constructor(
    private readonly tickets: StreamTicketStore,
    private readonly authenticator: StreamAuthenticator,
    private readonly admission: ConnectionAdmission,
    private readonly hub: SseHub,
    private readonly replay: StreamReplay,
    private readonly security: SecurityEventLogger,
    private readonly budgets: RequestBudgets,
    private readonly verifier: TokenVerifier,
    private readonly reconciler: SessionReconciler,
  ) {}

  /** EventSource cannot send headers: trade the Bearer token for a single-use URL ticket. */
  @Post('stream-ticket')
  @HttpCode(200)
  @ApiOperation({ summary: 'A single-use ticket (≤ 60 s) for EventSource, which cannot send an Authorization header' })
  @ApiBearerAuth()
  @ApiOkResponse({ type: StreamTicketDto })
  @ApiErrors(401, 403, 429, 503)
  @Header('Cache-Control', 'no-store')
  @SpendBudget('streamTicket')
  async ticket(@CurrentUser() user: AuthenticatedUser): Promise<StreamTicketResponse> {
    const ticket = await this.tickets.issue({ userId: user.userId, exp: user.exp, jti: user.jti, iat: user.iat });
    return { ticket, expiresIn: this.tickets.ttlSec };
  }

  /** Authenticates itself: a ticket in the query is not something the global guard accepts. */
  @Public()
  @Get('stream')
  @ApiOperation({
    summary: 'Server-Sent Events: notification:new and notification:read (docs/EVENTS.md)',
    description: 'Authenticate with a Bearer header or ?ticket=. A JWT in the URL is refused. Replays from Last-Event-ID.',
  })
  @ApiBearerAuth()
  @ApiQuery({ name: 'ticket', required: false, description: 'From POST /notifications/stream-ticket; single use' })
  @ApiQuery({ name: 'lastEventId', required: false, description: 'Position (or old cursor) to replay after, for clients that cannot set the header' })
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'Position (or old cursor) to replay after (browsers send it on reconnect)' })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ description: 'An event stream', schema: { type: 'string' } })
  @ApiErrors(400, 401, 403, 429)
  async stream(@Req() request: Request, @Res() response: Response): Promise<void> {
    const start = lastEventId(request);
    const ip = clientIp(request);
    const origin = typeof request.headers.origin === 'string' ? request.headers.origin : undefined;
    const admission = await this.admission.admit({
      transport: 'sse',
      peer: { ip },
      origin: request.headers.origin,
      credential: () => this.authenticator.authenticate(request),
      beforeLease: async (user) => {
        // A malformed or foreign position is refused before anything is spent or held.
        if (start && 'position' in start) checkPosition(start.position, user);
        // Budgets before the lease and the replay: a refused stream costs no database read.
        const budgetFields = { userId: user.userId, tenantId: user.tenantId, ip, origin, transport: 'sse' as const };
        await this.budgets.spend('streamConnect', user.userId, budgetFields, request);
        if (start !== null) await this.budgets.spend('streamReplay', user.userId, budgetFields, request);
      },
    });
    if (!admission.admitted) throw admission.status === 500 ? new ApiError(500, 'INTERNAL_ERROR') : new ApiError(admission.status, admission.code);
    const { user, lease } = admission;

    let positions;
    try {
      positions = await this.replay.startingPositions(user, start);
    } catch (error) {
      lease.release();
      throw error;
    }
    const rooms = roomsFor(user);
    // Without Last-Event-ID: live at once from the current heads (read above); a commit that
    // slipped in between shows as a gap and is read from the database.
    const stream = this.hub.open(response, { user, ip, origin, rooms }, lease, start !== null);
    if (!stream) return;
    this.replay.attach(stream, positions);
    // Checked before the hub held the stream: a revocation or a user change heard meanwhile found
    // nothing here to end or move. The revocation first, in this same turn.
    const revoked = this.verifier.revokedSessionEnd(user);
    if (revoked) {
      this.logger.log({ clientId: stream.id, userId: user.userId, code: revoked }, 'ending stream');
      stream.end(revoked);
      return;
    }
    const context = { clientId: stream.id, userId: user.userId, tenantId: user.tenantId, ip, origin, transport: 'sse' as const };
    this.security.log('AUTHENTICATION_SUCCESS', context, request);
    for (const room of rooms) this.security.log('ROOM_JOIN', { ...context, room }, request);
    await this.reconciler.admitted(user);
    if (start === null || !stream.isOpen) return;
    try {
      await this.replay.run(stream, positions);
    } catch (error) {
      // Headers are out: drop the stream; the client reconnects with its Last-Event-ID. A catch-up
      // refused by CatchUpGate (line full, or the instance stopping) is load, not a fault.
      if (isDeliberateRefusal(error)) this.logger.warn({ clientId: stream.id }, 'stream replay refused for now');
      else this.logger.error({ err: error, clientId: stream.id }, 'stream replay failed');
      stream.abort();
    }
  }
}

/** The `Last-Event-ID` header (as EventSource sends on reconnect), else `?lastEventId=`: a position, or an old cursor. */
function lastEventId(request: Request): ReplayStart {
  const header = request.headers['last-event-id'];
  const query = request.query.lastEventId;
  const value = header !== undefined && header !== '' ? header : query;
  if (value === undefined || value === '') return null;
  if (typeof value !== 'string') throw badLastEventId();
  if (CURSOR_SHAPE.test(value)) return { cursor: value };
  return { position: value };
}

/** Checked before the stream opens, so a bad id gets a 400 rather than a dropped stream. */
function checkPosition(position: string, user: AuthenticatedUser): void {
  try {
    decodePosition(position, user);
  } catch (error) {
    if (error instanceof PositionSyntaxError) throw badLastEventId();
    throw error;
  }
}

function badLastEventId(): ApiError {
  return new ApiError(400, 'VALIDATION_FAILED', undefined, [{ field: 'Last-Event-ID', messages: ['must be a position (or a notification cursor)'] }]);
}
