import { Injectable } from '@nestjs/common';
import { isUUID } from 'class-validator';
import { createHash, randomUUID } from 'node:crypto';
import { NOTIFICATION_LIMITS, SCOPES, type FieldError, type NotificationPage, type NotificationView, type StreamPosition } from '@notify-gateway/contracts';
import type { AuthenticatedUser } from '../auth/authenticated-user.js';
import { UserDirectory } from '../auth/user-directory.js';
import { canonicalId } from '../common/canonical-id.js';
import { ApiError } from '../common/errors/api-error.js';
import { SecurityEventLogger } from '../security/security-event.logger.js';
import { IDEMPOTENCY_KEY } from './dto/notification-batch.dto.js';
import { NotificationContentDto } from './dto/notification-content.dto.js';
import type { NotificationCreateDto } from './dto/notification-create.dto.js';
import { checkedContent } from './notification-content.check.js';
import { GLOBAL_ROOM, isTenantAdmin, tenantRoom, userRoom } from './notification-audience.js';
import { NotificationFanout } from './notification-fanout.js';
import { describePositions, NotificationReader, type PositionedPage } from './notification-reader.js';
import { PublishDrain } from './publish-drain.js';
import { NotificationWriter } from './notification-writer.js';
import { isForeignKeyViolation, NotificationRepository, type PreparedNotification, type StoredNotification, type Viewer } from './notification.repository.js';
import { ReadStateRepository } from './read-state/read-state.repository.js';
import { toView } from './notification.view.js';
import { decodePosition, PositionSyntaxError, positionsFromList, type Positions } from './streams/stream-position.js';

export type NotificationInput = Pick<NotificationContentDto, 'title' | 'content' | 'priority' | 'data'> & {
  /** Who sent it, when a person did; also the publisher an idempotency key belongs to. */
  createdById?: string;
  /** A retry with the same key (same publisher) within 24 h returns the original, stores nothing. */
  idempotencyKey?: string;
};

/** One item of `sendMany`: an input and its audience. */
export type NotificationSendItem = NotificationInput & ({ scope: 'USER'; userId: string } | { scope: 'TENANT'; tenantId: string } | { scope: 'GLOBAL' });

/** Who a new notification is for. USER names its recipient; the row takes the recipient's tenant. */
type Audience = { scope: 'USER'; userId: string; withinTenant: string | null } | { scope: 'TENANT'; tenantId: string } | { scope: 'GLOBAL' };

interface Intent {
  audience: Audience;
  content: NotificationContentDto;
  createdById: string | null;
  /** The actor's user id, or `service` for host code that names nobody. */
  publisher: string;
  key: string | undefined;
}

/** Position-based pages carry where the reader stands. */
export type SyncPage = NotificationPage & { position: string; streams: StreamPosition[]; reset: NonNullable<NotificationPage['reset']> };

const SERVICE_PUBLISHER = 'service';

/**
 * Owns the notification flow for every transport and for other modules:
 * validate → resolve audiences → group commit (stream offsets taken with the rows) → deliver.
 */
@Injectable()
export class NotificationService {
  constructor(
    private readonly repository: NotificationRepository,
    private readonly readState: ReadStateRepository,
    private readonly reader: NotificationReader,
    private readonly writer: NotificationWriter,
    private readonly fanout: NotificationFanout,
    private readonly security: SecurityEventLogger,
    private readonly directory: UserDirectory,
    private readonly drain: PublishDrain,
  ) {}

  /** Persists a notification for one user and delivers it; resolves once committed. */
  async sendToUser(userId: string, input: NotificationInput): Promise<NotificationView> {
    return this.sendOne({ ...input, scope: 'USER', userId });
  }

  /** For the ADMIN and SUPER_ADMIN users of a tenant. */
  async sendToTenant(tenantId: string, input: NotificationInput): Promise<NotificationView> {
    return this.sendOne({ ...input, scope: 'TENANT', tenantId });
  }

  /** For every SUPER_ADMIN. */
  async sendGlobal(input: NotificationInput): Promise<NotificationView> {
    return this.sendOne({ ...input, scope: 'GLOBAL' });
  }

  /**
   * Bulk publish from host code, same rules as `POST /notifications/batch`: at most
   * NOTIFICATION_LIMITS.batchMax items, every item validated (and its audience found) before
   * any is stored; resolves with the stored notifications in item order.
   */
  async sendMany(items: NotificationSendItem[]): Promise<NotificationView[]> {
    if (!Array.isArray(items) || items.length === 0 || items.length > NOTIFICATION_LIMITS.batchMax) {
      throw new ApiError(400, 'VALIDATION_FAILED', undefined, [{ field: 'items', messages: [`items must hold 1–${NOTIFICATION_LIMITS.batchMax} notifications`] }]);
    }
    // Every item is checked, and all their errors reported together, before anything is stored.
    const intents: Intent[] = [];
    const errors: FieldError[] = [];
    for (const [index, item] of items.entries()) {
      try {
        intents.push(hostIntent(item, `items.${index}`));
      } catch (error) {
        errors.push(...fieldErrorsOf(error));
      }
    }
    if (errors.length > 0) throw new ApiError(400, 'VALIDATION_FAILED', undefined, errors);
    return this.publish(intents, true);
  }

  /**
   * A person creating a notification (REST or WebSocket): ADMIN within its tenant, SUPER_ADMIN
   * anywhere. `dto` has already passed the validation pipe.
   */
  async createAs(actor: AuthenticatedUser, dto: NotificationCreateDto, idempotencyKey?: string): Promise<NotificationView> {
    const intent = this.intentOf(actor, dto, idempotencyKey, undefined);
    const [view] = await this.publish([intent], false, actor);
    return view as NotificationView;
  }

  /** `POST /notifications/batch`: the same rules per item; the first refusal refuses them all. */
  async createManyAs(actor: AuthenticatedUser, dtos: (NotificationCreateDto & { idempotencyKey?: string })[]): Promise<NotificationView[]> {
    const intents = dtos.map((dto, index) => this.intentOf(actor, dto, dto.idempotencyKey, index));
    return this.publish(intents, true, actor);
  }

  /**
   * `GET /notifications`: after a position (per stream, oldest first), after the old cursor (by
   * seq, oldest first), or the newest first with the current position.
   */
  async list(viewer: Viewer, query: { position?: string; after?: string; limit?: number }): Promise<NotificationPage> {
    const limit = query.limit ?? NOTIFICATION_LIMITS.pageDefault;
    if (query.position !== undefined) return this.positioned(viewer, await this.reader.after(viewer, decoded(query.position, viewer), limit), null);
    if (query.after !== undefined) {
      const { rows: unmarked, hasMore } = await this.repository.listAfter(viewer, query.after, limit);
      const rows = await this.readState.withMarks(viewer, unmarked);
      const heads = await this.repository.heads([...new Set(rows.map((row) => row.stream))]);
      const items = rows.map((row) => toView(row, heads.get(row.stream)?.epoch ?? '', row.read));
      return { items, cursor: items[items.length - 1]?.cursor ?? query.after, hasMore };
    }
    const page = await this.reader.latest(viewer, limit);
    return this.positioned(viewer, page, page.items[0]?.cursor ?? null);
  }

  /**
   * `notification:sync`: what the reader missed after its position (or after the old cursor,
   * read as a position); with neither, the latest page and the current position.
   */
  async sync(viewer: Viewer, payload: { position?: string | StreamPosition[]; after?: string; limit?: number }): Promise<SyncPage> {
    const limit = payload.limit ?? NOTIFICATION_LIMITS.pageMax;
    if (payload.position !== undefined) {
      const positions = typeof payload.position === 'string' ? decoded(payload.position, viewer) : structured(payload.position, viewer);
      return this.positioned(viewer, await this.reader.after(viewer, positions, limit), null);
    }
    if (payload.after !== undefined) {
      const page = await this.reader.after(viewer, await this.reader.positionsAtCursor(viewer, payload.after), limit);
      return this.positioned(viewer, page, payload.after);
    }
    const page = await this.reader.latest(viewer, limit);
    return this.positioned(viewer, page, page.items[0]?.cursor ?? null);
  }

  /** What the SSE transport replays and fills gaps from. */
  readAfter(viewer: Viewer, positions: Positions, limit: number = NOTIFICATION_LIMITS.pageMax): Promise<PositionedPage> {
    return this.reader.after(viewer, positions, limit);
  }

  positionsAtCursor(viewer: Viewer, cursor: string): Promise<Positions> {
    return this.reader.positionsAtCursor(viewer, cursor);
  }

  async currentPositions(viewer: Viewer): Promise<Positions> {
    return (await this.reader.latest(viewer, 1)).positions;
  }

  unreadCount(viewer: Viewer): Promise<number> {
    return this.readState.unreadCount(viewer);
  }

  /** Marks one read; the user's other sessions hear of it. */
  async markRead(viewer: Viewer, notificationId: string, exceptSocketId?: string): Promise<void> {
    // The other sessions know the id in the lower case every view carries, whatever case was sent.
    const id = canonicalId(notificationId);
    if (!(await this.readState.markRead(viewer, id))) throw new ApiError(404, 'NOT_FOUND');
    this.fanout.publish(userRoom(viewer.userId), 'notification:read', { id }, exceptSocketId);
  }

  async markAllRead(viewer: Viewer, exceptSocketId?: string): Promise<number> {
    const count = await this.readState.markAllRead(viewer);
    this.fanout.publish(userRoom(viewer.userId), 'notification:read', { all: true }, exceptSocketId);
    return count;
  }

  private async sendOne(item: NotificationSendItem): Promise<NotificationView> {
    const [view] = await this.sendManyChecked(item);
    return view as NotificationView;
  }

  /** A single service call reports its field errors without an `items.0.` prefix. */
  private async sendManyChecked(item: NotificationSendItem): Promise<NotificationView[]> {
    return this.publish([hostIntent(item, '')], false);
  }

  private intentOf(actor: AuthenticatedUser, dto: NotificationCreateDto, key: string | undefined, index: number | undefined): Intent {
    const at = (field: string): string => (index === undefined ? field : `items.${index}.${field}`);
    const scope = dto.scope ?? 'USER';
    if (!isTenantAdmin(actor.role)) return this.refuse(actor, 'role');
    const base = { content: dto, createdById: actor.userId, publisher: actor.userId, key: validKey(key, index === undefined ? '' : `items.${index}`) };
    switch (scope) {
      case 'USER':
        if (!dto.userId) throw new ApiError(400, 'VALIDATION_FAILED', undefined, [{ field: at('userId'), messages: ['userId is required for scope USER'] }]);
        return { ...base, audience: { scope, userId: canonicalId(dto.userId), withinTenant: actor.role === 'SUPER_ADMIN' ? null : actor.tenantId } };
      case 'TENANT': {
        // IsOptional lets null through: null is no tenant named, the caller's own (as for scope and priority).
        const named = dto.tenantId ?? null;
        const tenantId = named === null ? actor.tenantId : canonicalId(named);
        if (tenantId !== actor.tenantId && actor.role !== 'SUPER_ADMIN') return this.refuse(actor, 'cross-tenant broadcast');
        return { ...base, audience: { scope, tenantId } };
      }
      case 'GLOBAL':
        if (actor.role !== 'SUPER_ADMIN') return this.refuse(actor, 'global broadcast');
        return { ...base, audience: { scope } };
    }
  }

  /**
   * The tenant of each USER recipient. When the gateway's table is the directory, through the
   * user-state cache, invalidated with it as the publisher's own state is. A recipient the cache
   * places in another tenant than the publisher's is read again before it is refused, so a user
   * who has just moved in is not turned away. Otherwise from the table, and any user it lacks from
   * a host's directory (mirrored then).
   */
  private async recipientTenants(recipients: { userId: string; withinTenant: string | null }[]): Promise<Map<string, string>> {
    const userIds = recipients.map((recipient) => recipient.userId);
    const cached = await this.directory.tenantsOf(userIds);
    if (cached) {
      const elsewhere = recipients.filter((r) => r.withinTenant !== null && cached.has(r.userId) && cached.get(r.userId) !== r.withinTenant).map((r) => r.userId);
      if (elsewhere.length > 0) {
        const fresh = await this.repository.tenantsOfUsers([...new Set(elsewhere)]);
        for (const id of elsewhere) {
          const tenant = fresh.get(id);
          if (tenant === undefined) cached.delete(id);
          else cached.set(id, tenant);
        }
      }
      return cached;
    }
    const known = await this.repository.tenantsOfUsers(userIds);
    const unknown = userIds.filter((id) => !known.has(id));
    if (unknown.length === 0) return known;
    for (const [id, tenant] of await this.directory.vouchFor([...new Set(unknown)])) known.set(id, tenant);
    return known;
  }

  /**
   * Every audience is found (and every key checked) before anything is stored; then one trip
   * through the group commit. `batch` reports a missing audience per item index.
   */
  private publish(intents: Intent[], batch: boolean, actor?: AuthenticatedUser): Promise<NotificationView[]> {
    return this.drain.run(() => this.publishNow(intents, batch, actor));
  }

  private async publishNow(intents: Intent[], batch: boolean, actor?: AuthenticatedUser): Promise<NotificationView[]> {
    const recipients = intents.flatMap((i) => (i.audience.scope === 'USER' ? [i.audience] : []));
    // The actor's own tenant is not looked up: the actor's row references it (a foreign key with
    // cascade) and its state is re-read within USER_STATE_CACHE_TTL_MS; a tenant gone since is
    // refused by the insert's foreign key (NOT_FOUND below).
    const tenantIds = intents.flatMap((i) => (i.audience.scope === 'TENANT' && i.audience.tenantId !== actor?.tenantId ? [i.audience.tenantId] : []));
    const [tenantOfUser, tenants] = await Promise.all([this.recipientTenants(recipients), this.repository.existingTenants(tenantIds)]);
    if (actor) tenants.add(actor.tenantId);

    const missing: FieldError[] = [];
    const prepared = intents.map((intent, index): PreparedNotification => {
      const audience = intent.audience;
      let stream = GLOBAL_ROOM;
      let tenantId: string | null = null;
      let userId: string | null = null;
      if (audience.scope === 'USER') {
        const tenant = tenantOfUser.get(audience.userId);
        if (!tenant || (audience.withinTenant !== null && tenant !== audience.withinTenant)) {
          // Another tenant's user looks exactly like a user that does not exist; only the log tells.
          if (tenant && actor) this.security.log('UNAUTHORIZED_ACCESS_ATTEMPT', { userId: actor.userId, tenantId: actor.tenantId, reason: 'cross-tenant user target' });
          missing.push({ field: batch ? `items.${index}.userId` : 'userId', messages: ['no such recipient'] });
        }
        stream = userRoom(audience.userId);
        tenantId = tenant ?? null;
        userId = audience.userId;
      } else if (audience.scope === 'TENANT') {
        if (!tenants.has(audience.tenantId)) missing.push({ field: batch ? `items.${index}.tenantId` : 'tenantId', messages: ['no such tenant'] });
        stream = tenantRoom(audience.tenantId);
        tenantId = audience.tenantId;
      }
      const content = {
        title: intent.content.title,
        content: intent.content.content,
        priority: intent.content.priority ?? 'medium',
        data: intent.content.data ?? null,
      };
      const hash = intent.key ? requestHash({ scope: audience.scope, userId, tenantId, ...content }) : null;
      return {
        id: randomUUID(),
        stream,
        scope: audience.scope,
        tenantId,
        userId,
        createdById: intent.createdById,
        ...content,
        idempotency: intent.key && hash ? { publisher: intent.publisher, key: intent.key, hash } : null,
      };
    });
    if (missing.length > 0) throw new ApiError(404, 'NOT_FOUND', undefined, batch ? missing : undefined);

    // A key reused with another body is refused before anything of the request is stored.
    await this.checkKeys(prepared, batch);
    const stored = await this.writer.write(prepared).catch((error: unknown) => {
      // A tenant, recipient or author deleted since it was found (or since the actor's state was
      // read): the row's foreign key refused it, and nothing of the request was stored.
      if (isForeignKeyViolation(error)) throw new ApiError(404, 'NOT_FOUND');
      throw error;
    });
    const views: NotificationView[] = [];
    for (const [index, view] of stored.entries()) {
      // A copy: the emitted payload may still wait in a slow SSE reader's queue, and the caller may change what it gets.
      views.push(view ? { ...view } : await this.original(prepared[index] as PreparedNotification, batch ? index : undefined));
    }
    return views;
  }

  private async checkKeys(prepared: PreparedNotification[], batch: boolean): Promise<void> {
    const keyed = prepared.flatMap((item) => (item.idempotency ? [item.idempotency] : []));
    if (keyed.length === 0) return;
    const claimed = await this.repository.claimedHashes(keyed);
    const conflicts: FieldError[] = [];
    const seen = new Map<string, string>();
    for (const [index, item] of prepared.entries()) {
      if (!item.idempotency) continue;
      const { publisher, key, hash } = item.idempotency;
      const id = `${publisher}\u0000${key}`;
      const earlier = seen.get(id) ?? claimed.get(id);
      if (earlier !== undefined && earlier !== hash) conflicts.push({ field: batch ? `items.${index}.idempotencyKey` : 'idempotencyKey', messages: ['key already used with another request'] });
      seen.set(id, earlier ?? hash);
    }
    if (conflicts.length > 0) throw new ApiError(409, 'IDEMPOTENCY_CONFLICT', undefined, batch ? conflicts : undefined);
  }

  /** The notification a taken key stands for (a concurrent request may have just stored it). */
  private async original(item: PreparedNotification, index: number | undefined): Promise<NotificationView> {
    const idempotency = item.idempotency;
    const claim = idempotency ? await this.repository.claimedKey(idempotency.publisher, idempotency.key) : null;
    const field = (message: string): FieldError[] | undefined => (index === undefined ? undefined : [{ field: `items.${index}.idempotencyKey`, messages: [message] }]);
    if (!claim || claim.requestHash !== idempotency?.hash) throw new ApiError(409, 'IDEMPOTENCY_CONFLICT', undefined, field('key already used with another request'));
    // The same request, but retention or the per-user cap deleted what it stored: no conflict, and
    // storing it again would deliver it twice, so the retry is told the original is gone.
    if (!claim.notification) throw new ApiError(410, 'IDEMPOTENCY_ORIGINAL_PRUNED', undefined, field('the notification this key stored was pruned'));
    return viewOf(claim.notification);
  }

  private positioned(viewer: Viewer, page: PositionedPage, cursor: string | null): SyncPage {
    const last = page.items.reduce<string | null>((highest, item) => (highest === null || BigInt(item.cursor) > BigInt(highest) ? item.cursor : highest), null);
    return { items: page.items, cursor: cursor === null ? last : (last ?? cursor), hasMore: page.hasMore, ...describePositions(page.positions, viewer), reset: page.reset };
  }

  private refuse(actor: AuthenticatedUser, reason: string): never {
    this.security.log('UNAUTHORIZED_ACCESS_ATTEMPT', { userId: actor.userId, tenantId: actor.tenantId, reason });
    throw new ApiError(403, 'FORBIDDEN');
  }
}

function viewOf(row: StoredNotification): NotificationView {
  return toView(row, row.epoch);
}

function decoded(position: string, viewer: Viewer): Positions {
  try {
    return decodePosition(position, viewer);
  } catch (error) {
    if (error instanceof PositionSyntaxError) throw new ApiError(400, 'VALIDATION_FAILED', undefined, [{ field: 'position', messages: [error.message] }]);
    throw error;
  }
}

function structured(list: unknown, viewer: Viewer): Positions {
  const shaped =
    Array.isArray(list) &&
    list.length <= 3 &&
    list.every((item: unknown) => {
      if (item === null || typeof item !== 'object' || Array.isArray(item)) return false;
      const keys = Object.keys(item);
      const fields = item as Record<string, unknown>;
      return keys.length === 3 && typeof fields.stream === 'string' && typeof fields.epoch === 'string' && typeof fields.offset === 'string';
    });
  if (!shaped) throw new ApiError(400, 'VALIDATION_FAILED', undefined, [{ field: 'position', messages: ['position must be an encoded position or up to 3 {stream, epoch, offset}'] }]);
  try {
    return positionsFromList(list as StreamPosition[], viewer);
  } catch (error) {
    if (error instanceof PositionSyntaxError) throw new ApiError(400, 'VALIDATION_FAILED', undefined, [{ field: 'position', messages: [error.message] }]);
    throw error;
  }
}

function validKey(key: unknown, prefix: string): string | undefined {
  if (key === undefined) return undefined;
  if (typeof key === 'string' && IDEMPOTENCY_KEY.test(key)) return key;
  throw new ApiError(400, 'VALIDATION_FAILED', undefined, [
    { field: prefix ? `${prefix}.idempotencyKey` : 'idempotencyKey', messages: ['idempotencyKey must be 1–128 characters of A-Z a-z 0-9 . _ : -'] },
  ]);
}

/** Per-item validation failures of a sendMany, reported together; anything else is rethrown. */
function fieldErrorsOf(error: unknown): FieldError[] {
  if (error instanceof ApiError && error.code === 'VALIDATION_FAILED' && error.errors) return error.errors;
  throw error;
}

/**
 * A service call's item. Host code may be plain JavaScript: every field is checked here as the
 * validation pipe checks a client's, so nothing malformed reaches the lookups or the group statement.
 */
function hostIntent(item: NotificationSendItem, prefix: string): Intent {
  const at = (field: string): string => (prefix ? `${prefix}.${field}` : field);
  if (item === null || typeof item !== 'object') throw invalidField(prefix || 'item', 'each item must be an object');
  const content = checkedContent(item, prefix);
  const createdById = authorOf(item.createdById, at('createdById'));
  return { audience: audienceOf(item, at), content, createdById, publisher: createdById ?? SERVICE_PUBLISHER, key: validKey(item.idempotencyKey, prefix) };
}

/** Canonical, as the publisher a key belongs to: the same user in upper case is the same publisher. */
function authorOf(createdById: unknown, field: string): string | null {
  if (createdById === undefined || createdById === null) return null;
  if (typeof createdById === 'string' && isUUID(createdById)) return canonicalId(createdById);
  throw invalidField(field, 'createdById must be a UUID');
}

/** A recipient or tenant id that is a string but no UUID names nobody (NOT_FOUND later); a missing one is invalid. */
function audienceOf(item: NotificationSendItem, at: (field: string) => string): Audience {
  const fields = item as { scope?: unknown; userId?: unknown; tenantId?: unknown };
  const named = (field: 'userId' | 'tenantId'): string => {
    const id = fields[field];
    if (typeof id === 'string' && id !== '') return canonicalId(id);
    throw invalidField(at(field), `${field} is required for scope ${String(fields.scope)}`);
  };
  switch (fields.scope) {
    case 'USER':
      return { scope: 'USER', userId: named('userId'), withinTenant: null };
    case 'TENANT':
      return { scope: 'TENANT', tenantId: named('tenantId') };
    case 'GLOBAL':
      return { scope: 'GLOBAL' };
    default:
      throw invalidField(at('scope'), `scope must be one of the following values: ${SCOPES.join(', ')}`);
  }
}

function invalidField(field: string, message: string): ApiError {
  return new ApiError(400, 'VALIDATION_FAILED', undefined, [{ field, messages: [message] }]);
}

/** The request a key stands for: same audience and content, however the keys of `data` are ordered. */
function requestHash(request: Record<string, unknown>): string {
  return createHash('sha256').update(canonicalJson(request)).digest('hex');
}

/** The value as JSON.stringify stores it (toJSON applied, so a Date is its ISO string; undefined and functions are no key), keys sorted. */
function canonicalJson(value: unknown): string {
  const json = value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function' ? (value as { toJSON(): unknown }).toJSON() : value;
  if (json === null || typeof json !== 'object') return JSON.stringify(json) ?? 'null';
  if (Array.isArray(json)) return `[${json.map((item: unknown) => canonicalJson(item)).join(',')}]`;
  const entries = Object.entries(json as Record<string, unknown>)
    .filter(([, field]) => field !== undefined && typeof field !== 'function' && typeof field !== 'symbol')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, field]) => `${JSON.stringify(key)}:${canonicalJson(field)}`);
  return `{${entries.join(',')}}`;
}
