import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { PrismaPg } from '@prisma/adapter-pg';
import { Pool } from 'pg';
import type { AppConfig } from '../../config/app-config.js';
import { PrismaClient } from '../../generated/prisma/client.js';

/**
 * Group statements in flight at once per instance, each on its own connection of the publish
 * lane (NotificationWriter; groups in flight never share a stream). The lane holds that many
 * connections, plus two for the per-turn publish lookups.
 */
export const GROUP_COMMITS_IN_FLIGHT = 4;
const PUBLISH_LANE_CONNECTIONS = GROUP_COMMITS_IN_FLIGHT + 2;

/** The one database client. Boot fails when the database cannot be reached. */
@Injectable()
export class PrismaService extends PrismaClient implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(PrismaService.name);

  /**
   * The pool under Prisma's adapter, also for the hot reads (catch-up pages, listings, read
   * marks): through `pool.query` their arrays go straight to the wire, where `$queryRaw` first
   * passes every value through Prisma's query compiler (measured: most of a bulk publish's
   * database-side CPU, when the group commit still went that way).
   */
  readonly pool: Pool;

  /**
   * The publish lane: the group commit and the lookups every publish makes, on connections of
   * their own. Measured under a reconnect storm: catch-up reads held all of the shared pool and
   * publishes timed out waiting for a connection while PostgreSQL answered in under a millisecond.
   */
  readonly publishPool: Pool;

  constructor(config: ConfigService<AppConfig, true>) {
    const url = config.get('databaseUrl', { infer: true });
    if (!url) throw new Error('databaseUrl must be resolved before the app is created');
    const schema = config.get('databaseSchema', { infer: true });
    const newPool = (max: number): Pool =>
      new Pool({
        connectionString: url,
        max,
        // A request must fail fast when the database is gone, not hang.
        connectionTimeoutMillis: 3000,
        idleTimeoutMillis: 30000,
        ...schemaScope(schema),
      });
    const pool = newPool(20);
    super({
      // Prisma qualifies its own queries with this schema; search_path covers raw SQL.
      adapter: new PrismaPg(pool, { ...(schema === 'public' ? {} : { schema }), disposeExternalPool: true }),
    });
    this.pool = pool;
    this.publishPool = newPool(PUBLISH_LANE_CONNECTIONS);
    // Prisma's adapter listens for the errors of its pool's idle connections (the pool drops such
    // a connection); the publish lane's are reported here, or they would crash the process.
    this.publishPool.on('error', (error) => this.logger.warn({ err: error }, 'an idle connection of the publish lane failed; the pool drops it'));
  }

  async onModuleInit(): Promise<void> {
    await this.$connect();
    await this.$queryRaw`SELECT 1`;
  }

  /** Last, after the HTTP server has drained: a publish answered 201 has committed by then. */
  async onApplicationShutdown(): Promise<void> {
    await this.$disconnect();
    await this.publishPool.end();
  }
}

/**
 * DATABASE_SCHEMA other than public: every connection resolves unqualified names (raw SQL, the
 * migrations) in that schema only, so a host's tables of the same name are never touched.
 */
export function schemaScope(schema: string): { options?: string } {
  return schema === 'public' ? {} : { options: `-c search_path=${schema}` };
}
