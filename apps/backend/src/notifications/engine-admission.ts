import { Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { ConnectionLimiter } from '../security/connection-limiter.js';

/**
 * Engine.io handshakes spend the per-IP connect rate (CONNECT_RATE_PER_IP), not namespace
 * CONNECTs: a client that repeats CONNECT on one connection then costs one point, not one per
 * packet, and cannot use up its IP's budget for the legitimate clients behind it. A handshake
 * over the rate still gets its engine session, so that its namespace CONNECT can be answered
 * with the contract's RATE_LIMITED at once (no further Redis call) and the connection closed.
 */
@Injectable()
export class EngineAdmission {
  private readonly overRate = new WeakSet<IncomingMessage>();

  constructor(private readonly limiter: ConnectionLimiter) {}

  async handshake(request: IncomingMessage, ip: string): Promise<void> {
    if (!(await this.limiter.spendConnectRate(ip))) this.overRate.add(request);
  }

  /** True when this engine connection's handshake was over the connect rate. */
  isOverRate(request: IncomingMessage): boolean {
    return this.overRate.has(request);
  }
}
