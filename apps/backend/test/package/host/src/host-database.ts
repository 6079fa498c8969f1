import { Injectable, Module, type OnModuleDestroy } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Pool } from 'pg';

/** The host's own database access; its `users` table is not the gateway's. */
@Injectable()
export class HostDatabase implements OnModuleDestroy {
  readonly pool: Pool;

  constructor(config: ConfigService) {
    this.pool = new Pool({ connectionString: config.getOrThrow<string>('DATABASE_URL') });
  }

  onModuleDestroy(): Promise<void> {
    return this.pool.end();
  }
}

@Module({ providers: [HostDatabase], exports: [HostDatabase] })
export class HostDatabaseModule {}
