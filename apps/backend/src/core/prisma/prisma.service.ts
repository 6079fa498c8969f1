import { Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { PrismaPg } from '@prisma/adapter-pg';
import { Pool } from 'pg';
import type { AppConfig } from '../../config/app-config.js';
import { PrismaClient } from '../../generated/prisma/client.js';

/** The one database client. Boot fails when the database cannot be reached. */
@Injectable()
export class PrismaService extends PrismaClient implements OnModuleInit, OnApplicationShutdown {
  /**
   * The pool under Prisma's adapter, for the one hot statement (the group commit): through
   * `pool.query` its arrays go straight to the wire, where `$queryRaw` first passes every value
   * through Prisma's query compiler (measured: most of a bulk publish's database-side CPU).
   */
  readonly pool: Pool;

  constructor(config: ConfigService<AppConfig, true>) {
    const url = config.get('databaseUrl', { infer: true });
    if (!url) throw new Error('databaseUrl must be resolved before the app is created');
    const schema = config.get('databaseSchema', { infer: true });
    const pool = new Pool({
      connectionString: url,
      max: 20,
      // A request must fail fast when the database is gone, not hang.
      connectionTimeoutMillis: 3000,
      idleTimeoutMillis: 30000,
      ...schemaScope(schema),
    });
    super({
      // Prisma qualifies its own queries with this schema; search_path covers raw SQL.
      adapter: new PrismaPg(pool, { ...(schema === 'public' ? {} : { schema }), disposeExternalPool: true }),
    });
    this.pool = pool;
  }

  async onModuleInit(): Promise<void> {
    await this.$connect();
    await this.$queryRaw`SELECT 1`;
  }

  /** Last, after the HTTP server has drained: a publish answered 201 has committed by then. */
  async onApplicationShutdown(): Promise<void> {
    await this.$disconnect();
  }
}

/**
 * DATABASE_SCHEMA other than public: every connection resolves unqualified names (raw SQL, the
 * migrations) in that schema only, so a host's tables of the same name are never touched.
 */
export function schemaScope(schema: string): { options?: string } {
  return schema === 'public' ? {} : { options: `-c search_path=${schema}` };
}
