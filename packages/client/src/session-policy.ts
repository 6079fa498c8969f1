import { CONNECT_ERROR_CODES, type ConnectErrorCode, type SessionEndCode } from '@notify-gateway/contracts';
import type { StopReason, TokenRequestReason } from './types.js';

/** What to do after a refused or failed connection attempt. */
export type ConnectErrorAction =
  /** A transport failure (server down, network): socket.io retries with its own backoff. */
  | { kind: 'auto' }
  /** The namespace refused the handshake: socket.io gives up, so retry after our backoff. */
  | { kind: 'retry'; code: ConnectErrorCode; tokenReason: TokenRequestReason }
  | { kind: 'stop'; code: ConnectErrorCode & StopReason };

export function isConnectErrorCode(message: string): message is ConnectErrorCode {
  return (CONNECT_ERROR_CODES as readonly string[]).includes(message);
}

/** `authFailures` counts consecutive UNAUTHORIZED refusals, this one included. */
export function connectErrorAction(message: string, authFailures: number, maxAuthFailures: number): ConnectErrorAction {
  if (!isConnectErrorCode(message)) return { kind: 'auto' };
  switch (message) {
    case 'UNAUTHORIZED':
      return authFailures >= maxAuthFailures ? { kind: 'stop', code: message } : { kind: 'retry', code: message, tokenReason: 'unauthorized' };
    case 'ORIGIN_NOT_ALLOWED':
      return { kind: 'stop', code: message };
    case 'CONNECTION_LIMIT':
    case 'RATE_LIMITED':
    // The server could not check the token (its database is down): the token may be fine.
    case 'SERVICE_UNAVAILABLE':
      return { kind: 'retry', code: message, tokenReason: 'reconnect' };
  }
}

/** What to do after a disconnect; `sessionEnd` is the code of a `notification:session-expiring` just before. */
export type DisconnectAction =
  | { kind: 'auto'; tokenReason: TokenRequestReason }
  | { kind: 'reconnect'; tokenReason: TokenRequestReason }
  | { kind: 'stop'; reason: StopReason };

export function disconnectAction(reason: string, sessionEnd: SessionEndCode | undefined): DisconnectAction {
  if (reason === 'io client disconnect') return { kind: 'stop', reason: 'CLOSED' };
  // Cut off on purpose (deactivated, logged out elsewhere): reconnecting would defeat it.
  if (sessionEnd === 'USER_DISCONNECTED') return { kind: 'stop', reason: 'USER_DISCONNECTED' };
  // The token was revoked (logout, or every token of the user): the same holds.
  if (sessionEnd === 'TOKEN_REVOKED') return { kind: 'stop', reason: 'TOKEN_REVOKED' };
  // A refresh token was refused: come back only with a token the handshake accepts.
  if (sessionEnd === 'UNAUTHORIZED') return { kind: 'reconnect', tokenReason: 'unauthorized' };
  const tokenReason: TokenRequestReason = sessionEnd === 'TOKEN_EXPIRED' ? 'expired' : 'reconnect';
  if (reason !== 'io server disconnect') return { kind: 'auto', tokenReason };
  // socket.io does not reconnect after a server-side disconnect; these two want us back.
  if (sessionEnd === 'TOKEN_EXPIRED' || sessionEnd === 'SERVER_SHUTDOWN') return { kind: 'reconnect', tokenReason };
  return { kind: 'stop', reason: 'SERVER_DISCONNECT' };
}

/**
 * How long to wait before reconnecting after a draining server's SERVER_SHUTDOWN notice: a random
 * point of its `reconnectWithinMs` window (never more than `maxMs`), so the clients of one
 * instance reach the others spread out. undefined: no (valid) window, reconnect as usual.
 */
export function drainDelayMs(windowMs: unknown, maxMs: number, random: () => number = Math.random): number | undefined {
  if (typeof windowMs !== 'number' || !Number.isFinite(windowMs) || windowMs <= 0) return undefined;
  return Math.round(Math.min(windowMs, maxMs) * Math.min(Math.max(random(), 0), 1));
}
