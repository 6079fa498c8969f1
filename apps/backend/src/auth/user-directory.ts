import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/app-config.js';
import { PrismaService } from '../core/prisma/prisma.service.js';
import { UserStateCache, type UserState } from './user-state-cache.js';

export type DirectoryUser = UserState;

export interface LoginCandidate extends DirectoryUser {
  passwordHash: string;
}

/**
 * Reads users for authentication. `findById` (every handshake, request and socket event) is
 * served from the user-state cache; `UserStateChannel` invalidates it on every instance.
 */
@Injectable()
export class UserDirectory {
  private readonly cache: UserStateCache;

  constructor(
    private readonly prisma: PrismaService,
    config: ConfigService<AppConfig, true>,
  ) {
    const { cacheTtlMs, cacheMaxEntries } = config.get('userState', { infer: true });
    this.cache = new UserStateCache({ ttlMs: cacheTtlMs, maxEntries: cacheMaxEntries });
  }

  /** The password hash is not read here. */
  findById(id: string): Promise<DirectoryUser | null> {
    return this.cache.get(id, (key) => this.prisma.user.findUnique({ where: { id: key }, select: USER_FIELDS }));
  }

  /** Straight from the database, bypassing the cache (and refreshing it): the re-check of live sessions. */
  async findFresh(ids: string[]): Promise<Map<string, DirectoryUser>> {
    const generation = this.cache.currentGeneration();
    const rows = await this.prisma.user.findMany({ where: { id: { in: ids } }, select: USER_FIELDS });
    this.cache.storeAll(rows, generation);
    return new Map(rows.map((row) => [row.id, row]));
  }

  /** Drops this instance's copy of one user's state (UserStateChannel tells the other instances). */
  forget(id: string): void {
    this.cache.invalidate(id);
  }

  /** Drops every copy: invalidations may have been missed (the Redis link was down). */
  forgetAll(): void {
    this.cache.clear();
  }

  findByEmail(email: string): Promise<LoginCandidate | null> {
    return this.prisma.user.findUnique({ where: { email: email.toLowerCase() }, select: { ...USER_FIELDS, passwordHash: true } });
  }
}

const USER_FIELDS = { id: true, email: true, tenantId: true, role: true, isActive: true } as const;
