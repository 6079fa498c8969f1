import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { PrismaService } from '../core/prisma/prisma.service.js';
import { RedisService } from '../core/redis/redis.service.js';

const CHECK_TIMEOUT_MS = 2000;

/** Readiness checks of what the gateway cannot serve without. */
@Injectable()
export class DependencyHealth {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly prisma: PrismaService,
    private readonly redisService: RedisService,
  ) {}

  async database(): Promise<HealthIndicatorResult> {
    const check = this.indicators.check('database');
    try {
      await withTimeout(this.prisma.$queryRaw`SELECT 1`);
      return check.up();
    } catch {
      return check.down({ message: 'unreachable' });
    }
  }

  async redis(): Promise<HealthIndicatorResult> {
    const check = this.indicators.check('redis');
    if (!this.redisService.client) return check.up({ mode: 'none' });
    try {
      await withTimeout(this.redisService.ping());
      return check.up();
    } catch {
      return check.down({ message: 'unreachable' });
    }
  }
}

async function withTimeout<T>(promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('health check timed out')), CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
