import { Inject, Injectable, Optional } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import DataLoader from 'dataloader';
import type { AppConfig } from '../config/app-config.js';
import { PrismaService } from '../core/prisma/prisma.service.js';
import { DirectoryMirror } from './directory-mirror.js';
import { USER_DIRECTORY_SOURCE, type UserDirectorySource } from './user-directory-source.js';
import { UserStateCache, type UserState } from './user-state-cache.js';

export type DirectoryUser = UserState;

export interface LoginCandidate extends DirectoryUser {
  passwordHash: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The cache-miss read of every handshake, straight on the pool (Prisma's query compiler cost more than the query). */
const USERS_BY_ID = 'SELECT id, email, tenant_id AS "tenantId", role, is_active AS "isActive" FROM users WHERE id = ANY($1::uuid[])';

/**
 * Reads users for authentication, from the gateway's `users` table or a host's directory.
 * `findById` (every handshake, request and socket event) is served from the user-state cache;
 * `UserStateChannel` invalidates it on every instance.
 */
@Injectable()
export class UserDirectory {
  private readonly cache: UserStateCache;
  /** Misses of one event-loop turn (a reconnect storm) share one query; no cache of its own. */
  private readonly misses = new DataLoader<string, DirectoryUser | null>((ids) => this.readMany(ids), {
    cache: false,
    batchScheduleFn: (run) => setImmediate(run),
    maxBatchSize: 500,
  });

  constructor(
    private readonly prisma: PrismaService,
    config: ConfigService<AppConfig, true>,
    @Optional() @Inject(USER_DIRECTORY_SOURCE) private readonly source?: UserDirectorySource,
    @Optional() private readonly mirror?: DirectoryMirror,
  ) {
    const { cacheTtlMs, cacheMaxEntries } = config.get('userState', { infer: true });
    this.cache = new UserStateCache({ ttlMs: cacheTtlMs, maxEntries: cacheMaxEntries });
  }

  /** The password hash is not read here. */
  findById(id: string): Promise<DirectoryUser | null> {
    return this.cache.get(id, (key) => this.read(key));
  }

  /** Straight from the source, bypassing the cache (and refreshing it): the re-check of live sessions. */
  async findFresh(ids: string[]): Promise<Map<string, DirectoryUser>> {
    const generation = this.cache.currentGeneration();
    const rows = this.source
      ? (await Promise.all(ids.map((id) => this.fromSource(id)))).filter((row): row is DirectoryUser => row !== null)
      : await this.prisma.user.findMany({ where: { id: { in: ids } }, select: USER_FIELDS });
    this.cache.storeAll(rows, generation);
    return new Map(rows.map((row) => [row.id, row]));
  }

  /** Drops this instance's copy of one user's state (UserStateChannel tells the other instances). */
  forget(id: string): void {
    this.cache.invalidate(id);
  }

  /**
   * With a host's directory: the tenants of the given users that it vouches for as active, each
   * mirrored on the way (so a notification can name a user who has never connected). Without one
   * the gateway's own table is the whole truth, and this finds nobody.
   */
  async vouchFor(ids: string[]): Promise<Map<string, string>> {
    const tenants = new Map<string, string>();
    if (!this.source) return tenants;
    const asked = ids.filter((id) => UUID.test(id));
    const users = await Promise.all(asked.map((id) => this.findById(id)));
    for (const [index, user] of users.entries()) if (user?.isActive) tenants.set(asked[index] as string, user.tenantId);
    return tenants;
  }

  /**
   * The tenant of each of `ids` that is a user of the gateway's own table, read through the
   * user-state cache (so invalidated with it; an unknown id is read each time). Null with a host's
   * directory: the table then only mirrors the users it has vouched for.
   */
  async tenantsOf(ids: string[]): Promise<Map<string, string> | null> {
    if (this.source) return null;
    const users = await Promise.all(ids.map((id) => this.findById(id)));
    const tenants = new Map<string, string>();
    for (const [index, user] of users.entries()) if (user) tenants.set(ids[index] as string, user.tenantId);
    return tenants;
  }

  /** Drops every copy: invalidations may have been missed (the Redis link was down). */
  forgetAll(): void {
    this.cache.clear();
  }

  findByEmail(email: string): Promise<LoginCandidate | null> {
    return this.prisma.user.findUnique({ where: { email: email.toLowerCase() }, select: { ...USER_FIELDS, passwordHash: true } });
  }

  private read(id: string): Promise<DirectoryUser | null> {
    if (this.source) return this.fromSource(id);
    return this.misses.load(id);
  }

  private async readMany(ids: readonly string[]): Promise<(DirectoryUser | null)[]> {
    const valid = ids.filter((id) => UUID.test(id));
    const { rows } = valid.length === 0 ? { rows: [] } : await this.prisma.pool.query<DirectoryUser>(USERS_BY_ID, [valid]);
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id.toLowerCase()) ?? null);
  }

  /** The host's answer decides; its active users are mirrored so notifications can name them. */
  private async fromSource(id: string): Promise<DirectoryUser | null> {
    const entry = await this.source?.findById(id);
    if (!entry) return null;
    const user = { id: entry.id, tenantId: entry.tenantId, role: entry.role, isActive: entry.isActive, email: '' };
    if (user.isActive) await this.mirror?.ensure(user);
    return user;
  }
}

const USER_FIELDS = { id: true, email: true, tenantId: true, role: true, isActive: true } as const;
