import type { Role } from '@notify-gateway/contracts';

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
