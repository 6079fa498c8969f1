import { Injectable } from '@nestjs/common';
import type { UserDirectoryEntry, UserDirectorySource } from '@notify-gateway/backend';
import { HostDatabase } from './host-database';

/** The gateway asks the host's users table who a token's `sub` is, and whether it is active. */
@Injectable()
export class HostUserDirectory implements UserDirectorySource {
  constructor(private readonly db: HostDatabase) {}

  async findById(id: string): Promise<UserDirectoryEntry | null> {
    const { rows } = await this.db.pool.query<{ id: string; org_id: string; is_admin: boolean; active: boolean }>(
      'SELECT id, org_id, is_admin, active FROM users WHERE id = $1',
      [id],
    );
    const row = rows[0];
    if (!row) return null;
    return { id: row.id, tenantId: row.org_id, role: row.is_admin ? 'ADMIN' : 'USER', isActive: row.active };
  }
}
