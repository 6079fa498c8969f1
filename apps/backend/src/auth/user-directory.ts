import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Role } from '@notify-gateway/contracts';
import { PrismaService } from '../core/prisma/prisma.service.js';
import { DirectoryMirror } from './directory-mirror.js';

export interface DirectoryUser {
  id: string;
  email: string;
  tenantId: string;
  role: Role;
  isActive: boolean;
}

export interface LoginCandidate extends DirectoryUser {
  passwordHash: string;
}

/** What the gateway must know of a user, from whichever table holds it. */
export interface UserDirectoryEntry {
  id: string;
  tenantId: string;
  role: Role;
  isActive: boolean;
}

/** A host's own users table, plugged in with NotificationGatewayModule's `userDirectory` (docs/BACKEND.md). */
export interface UserDirectorySource {
  findById(id: string): Promise<UserDirectoryEntry | null>;
}

/** Injection token of the host's UserDirectorySource; without one the gateway's `users` table answers. */
export const USER_DIRECTORY_SOURCE = Symbol('USER_DIRECTORY_SOURCE');

/** Reads users for authentication. */
@Injectable()
export class UserDirectory {
  constructor(
    private readonly prisma: PrismaService,
    @Optional() @Inject(USER_DIRECTORY_SOURCE) private readonly source?: UserDirectorySource,
    @Optional() private readonly mirror?: DirectoryMirror,
  ) {}

  /** On every handshake and request: the password hash is not read there. */
  findById(id: string): Promise<DirectoryUser | null> {
    if (this.source) return this.fromSource(id);
    return this.prisma.user.findUnique({ where: { id }, select: USER_FIELDS });
  }

  /** The host's answer decides; its active users are mirrored so notifications can name them. */
  private async fromSource(id: string): Promise<DirectoryUser | null> {
    const entry = await this.source?.findById(id);
    if (!entry) return null;
    const user = { id: entry.id, tenantId: entry.tenantId, role: entry.role, isActive: entry.isActive, email: '' };
    if (user.isActive) await this.mirror?.ensure(user);
    return user;
  }

  findByEmail(email: string): Promise<LoginCandidate | null> {
    return this.prisma.user.findUnique({ where: { email: email.toLowerCase() }, select: { ...USER_FIELDS, passwordHash: true } });
  }
}

const USER_FIELDS = { id: true, email: true, tenantId: true, role: true, isActive: true } as const;
