import { Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { ConnectionLimiter } from '../../security/connection-limiter.js';
import { KnownRefusals } from '../../security/known-refusals.js';

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
  /** IPs over the rate: known here until their window ends, so a handshake storm costs no Redis call each. */
  private readonly known = new KnownRefusals();

  constructor(private readonly limiter: ConnectionLimiter) {}

  async handshake(request: IncomingMessage, ip: string): Promise<void> {
    if (this.known.retryAfterSec(ip) !== null) {
      this.overRate.add(request);
      return;
    }
    const decision = await this.limiter.spendConnectRate(ip);
    if (decision.allowed) return;
    this.known.remember(ip, decision.retryAfterSec);
    this.overRate.add(request);
  }

  /** True when this engine connection's handshake was over the connect rate. */
  isOverRate(request: IncomingMessage): boolean {
    return this.overRate.has(request);
  }
}
