import { Injectable } from '@nestjs/common';
import type { Role } from '@notify-gateway/contracts';
import { PrismaService } from '../core/prisma/prisma.service.js';

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

/** Reads users for authentication. */
@Injectable()
export class UserDirectory {
  constructor(private readonly prisma: PrismaService) {}

  /** On every handshake and request: the password hash is not read there. */
  findById(id: string): Promise<DirectoryUser | null> {
    return this.prisma.user.findUnique({ where: { id }, select: USER_FIELDS });
  }

  findByEmail(email: string): Promise<LoginCandidate | null> {
    return this.prisma.user.findUnique({ where: { email: email.toLowerCase() }, select: { ...USER_FIELDS, passwordHash: true } });
  }
}

const USER_FIELDS = { id: true, email: true, tenantId: true, role: true, isActive: true } as const;
