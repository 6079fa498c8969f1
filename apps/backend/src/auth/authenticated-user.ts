import type { Role } from '@notify-gateway/contracts';

/** Who a verified token speaks for, as loaded from the database at verification time. */
export interface AuthenticatedUser {
  userId: string;
  tenantId: string;
  role: Role;
  email: string;
  /** Token expiry, epoch seconds. */
  exp: number;
  /** The token's id, when it has one: what logout revokes. */
  jti?: string;
  /** When the token was issued, epoch seconds, when it says: compared with the user's not-before. */
  iat?: number;
}
