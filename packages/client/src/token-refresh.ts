import { MAX_TIMER_MS, type AuthRefreshAck, type ClientToServerEvents, type ServerToClientEvents } from '@notify-gateway/contracts';
import type { Socket } from 'socket.io-client';
import { NotificationClientError } from './errors.js';
import type { TokenProvider } from './types.js';

type GatewaySocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface InBandRefreshOptions {
  enabled: boolean;
  marginMs: number;
  ackTimeoutMs: number;
}

/**
 * Sends a fresh token on the open socket (`auth:refresh`) a margin before the current one
 * expires, so the session goes on without a reconnect. When the server does not answer (an
 * older server), it stops trying on this connection: the server ends the session at `exp` and
 * the client reconnects with a new token, as it always did.
 */
export class InBandRefresh {
  private expiresAtMs: number | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private unsupported = false;
  /** Bumped on every connect and disconnect; a refresh started under an older value is dropped. */
  private generation = 0;

  constructor(
    private readonly socket: GatewaySocket,
    private readonly getToken: TokenProvider,
    private readonly options: InBandRefreshOptions,
    private readonly onError: (error: NotificationClientError) => void,
  ) {}

  /** The token the handshake is about to carry. */
  tokenSent(token: string): void {
    this.expiresAtMs = expiryOf(token);
  }

  connected(): void {
    this.generation += 1;
    this.unsupported = false;
    this.schedule();
  }

  disconnected(): void {
    this.generation += 1;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    clearTimeout(this.timer);
    if (!this.options.enabled || this.unsupported || this.expiresAtMs === undefined) return;
    const remaining = this.expiresAtMs - Date.now();
    if (remaining <= 0) return;
    // Never sooner than halfway: a margin longer than the token's life must not loop.
    // Capped at what a timer can wait: a longer delay would fire at once, and refresh in a loop.
    const delay = Math.min(Math.max(remaining - this.options.marginMs, remaining / 2), MAX_TIMER_MS);
    const generation = this.generation;
    this.timer = setTimeout(() => void this.run(generation), delay);
  }

  private async run(generation: number): Promise<void> {
    let token: string;
    try {
      token = await this.getToken({ reason: 'refresh' });
    } catch (error) {
      // No new token: the session ends at exp and the reconnect asks again.
      this.onError(new NotificationClientError('TOKEN_UNAVAILABLE', error instanceof Error ? error.message : 'token provider failed'));
      return;
    }
    if (generation !== this.generation || !this.socket.connected) return;
    let ack: AuthRefreshAck;
    try {
      ack = await this.socket.timeout(this.options.ackTimeoutMs).emitWithAck('auth:refresh', { token });
    } catch {
      if (generation === this.generation) this.unsupported = true;
      return;
    }
    if (generation !== this.generation) return;
    if (ack.ok) {
      this.expiresAtMs = ack.expiresAt * 1000;
      this.schedule();
    } else if (ack.error.code === 'RATE_LIMITED') {
      // The session goes on; try again later in the token's life.
      this.schedule();
    }
    // Any other refusal: the server ends the session and says why.
  }
}

/** The token's `exp` in ms, read without verifying (the server verifies); undefined if unreadable. */
export function expiryOf(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
    const json = atob(base64);
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
