import { Injectable } from '@nestjs/common';
import { PrismaService } from '../core/prisma/prisma.service.js';
import type { UserDirectoryEntry } from './user-directory-source.js';

/** A unique placeholder: mirrored users never log in through the gateway (no password either). */
const mirrorEmail = (id: string): string => `${id}@directory.invalid`;

/**
 * With a host's own users table, notifications and read marks still reference the gateway's
 * `users` and `tenants` rows: each user the host's directory vouches for gets one, written the
 * first time it is seen (and again when its tenant or role changes), never read for authentication.
 */
@Injectable()
export class DirectoryMirror {
  /** id → "tenant/role" already written by this process. */
  private readonly written = new Map<string, string>();

  constructor(private readonly prisma: PrismaService) {}

  async ensure(user: UserDirectoryEntry): Promise<void> {
    const key = `${user.tenantId}/${user.role}`;
    if (this.written.get(user.id) === key) return;
    await this.prisma.tenant.upsert({ where: { id: user.tenantId }, create: { id: user.tenantId, slug: user.tenantId, name: user.tenantId }, update: {} });
    await this.prisma.user.upsert({
      where: { id: user.id },
      create: { id: user.id, email: mirrorEmail(user.id), passwordHash: '', role: user.role, tenantId: user.tenantId },
      update: { role: user.role, tenantId: user.tenantId },
    });
    this.written.set(user.id, key);
  }
}
