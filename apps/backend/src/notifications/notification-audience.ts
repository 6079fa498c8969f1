import type { NotificationScope, Role } from '@notify-gateway/contracts';
import type { AuthenticatedUser } from '../auth/authenticated-user.js';
import type { Prisma } from '../generated/prisma/client.js';

/**
 * Who sees what, in one place: the rooms a connection joins and the rows REST and catch-up
 * return are derived from the same rules, so the server never pushes what REST would hide.
 *   USER   → that user            room user:{id}
 *   TENANT → ADMIN and SUPER_ADMIN of that tenant   room tenant:{tenantId}
 *   GLOBAL → SUPER_ADMIN          room global
 */
export const GLOBAL_ROOM = 'global';
export const userRoom = (userId: string): string => `user:${userId}`;
export const tenantRoom = (tenantId: string): string => `tenant:${tenantId}`;

export function isTenantAdmin(role: Role): boolean {
  return role === 'ADMIN' || role === 'SUPER_ADMIN';
}

export function roomsFor(user: Pick<AuthenticatedUser, 'userId' | 'tenantId' | 'role'>): string[] {
  const rooms = [userRoom(user.userId)];
  if (isTenantAdmin(user.role)) rooms.push(tenantRoom(user.tenantId));
  if (user.role === 'SUPER_ADMIN') rooms.push(GLOBAL_ROOM);
  return rooms;
}

export interface Audience {
  scope: NotificationScope;
  userId: string | null;
  tenantId: string | null;
}

export function roomOf(audience: Audience): string {
  switch (audience.scope) {
    case 'USER':
      return userRoom(required(audience.userId));
    case 'TENANT':
      return tenantRoom(required(audience.tenantId));
    case 'GLOBAL':
      return GLOBAL_ROOM;
  }
}

export function visibleTo(user: Pick<AuthenticatedUser, 'userId' | 'tenantId' | 'role'>): Prisma.NotificationWhereInput {
  const visible: Prisma.NotificationWhereInput[] = [{ scope: 'USER', userId: user.userId }];
  if (isTenantAdmin(user.role)) visible.push({ scope: 'TENANT', tenantId: user.tenantId });
  if (user.role === 'SUPER_ADMIN') visible.push({ scope: 'GLOBAL' });
  return { OR: visible };
}

function required(value: string | null): string {
  if (!value) throw new Error('notification audience is incomplete');
  return value;
}
