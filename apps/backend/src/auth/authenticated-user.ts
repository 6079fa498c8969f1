import type { Role } from '@notify-gateway/contracts';

/** Who a verified token speaks for, as loaded from the database at verification time. */
export interface AuthenticatedUser {
  userId: string;
  tenantId: string;
  role: Role;
  email: string;
  /** Token expiry, epoch seconds. */
  exp: number;
}
