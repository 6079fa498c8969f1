import { connectErrorAction, disconnectAction, drainDelayMs } from './session-policy';

describe('connectErrorAction', () => {
  it('refreshes the token and retries on UNAUTHORIZED, up to the limit', () => {
    expect(connectErrorAction('UNAUTHORIZED', 1, 3)).toEqual({ kind: 'retry', code: 'UNAUTHORIZED', tokenReason: 'unauthorized' });
    expect(connectErrorAction('UNAUTHORIZED', 3, 3)).toEqual({ kind: 'stop', code: 'UNAUTHORIZED' });
  });

  it('stops on a refused origin: retrying cannot help', () => {
    expect(connectErrorAction('ORIGIN_NOT_ALLOWED', 0, 3)).toEqual({ kind: 'stop', code: 'ORIGIN_NOT_ALLOWED' });
  });

  it('backs off and retries with the same token on limits', () => {
    expect(connectErrorAction('CONNECTION_LIMIT', 0, 3)).toEqual({ kind: 'retry', code: 'CONNECTION_LIMIT', tokenReason: 'reconnect' });
    expect(connectErrorAction('RATE_LIMITED', 0, 3)).toEqual({ kind: 'retry', code: 'RATE_LIMITED', tokenReason: 'reconnect' });
  });

  it('retries SERVICE_UNAVAILABLE (the token could not be checked) however often it comes, with the same token', () => {
    expect(connectErrorAction('SERVICE_UNAVAILABLE', 0, 3)).toEqual({ kind: 'retry', code: 'SERVICE_UNAVAILABLE', tokenReason: 'reconnect' });
    expect(connectErrorAction('SERVICE_UNAVAILABLE', 3, 3)).toEqual({ kind: 'retry', code: 'SERVICE_UNAVAILABLE', tokenReason: 'reconnect' });
  });

  it('leaves transport failures to socket.io', () => {
    for (const message of ['xhr poll error', 'websocket error', 'timeout']) expect(connectErrorAction(message, 0, 3)).toEqual({ kind: 'auto' });
  });
});

describe('disconnectAction', () => {
  it('reconnects with a fresh token after TOKEN_EXPIRED, whichever way the socket closed', () => {
    expect(disconnectAction('io server disconnect', 'TOKEN_EXPIRED')).toEqual({ kind: 'reconnect', tokenReason: 'expired' });
    expect(disconnectAction('transport close', 'TOKEN_EXPIRED')).toEqual({ kind: 'auto', tokenReason: 'expired' });
  });

  it('stops after USER_DISCONNECTED, even when socket.io would reconnect on its own', () => {
    expect(disconnectAction('io server disconnect', 'USER_DISCONNECTED')).toEqual({ kind: 'stop', reason: 'USER_DISCONNECTED' });
    expect(disconnectAction('transport close', 'USER_DISCONNECTED')).toEqual({ kind: 'stop', reason: 'USER_DISCONNECTED' });
  });

  it('stops after TOKEN_REVOKED; after a refused refresh reconnects with a refreshed token', () => {
    expect(disconnectAction('io server disconnect', 'TOKEN_REVOKED')).toEqual({ kind: 'stop', reason: 'TOKEN_REVOKED' });
    expect(disconnectAction('transport close', 'TOKEN_REVOKED')).toEqual({ kind: 'stop', reason: 'TOKEN_REVOKED' });
    expect(disconnectAction('io server disconnect', 'UNAUTHORIZED')).toEqual({ kind: 'reconnect', tokenReason: 'unauthorized' });
  });

  it('comes back after a server shutdown or a dropped connection', () => {
    expect(disconnectAction('transport close', 'SERVER_SHUTDOWN')).toEqual({ kind: 'auto', tokenReason: 'reconnect' });
    expect(disconnectAction('io server disconnect', 'SERVER_SHUTDOWN')).toEqual({ kind: 'reconnect', tokenReason: 'reconnect' });
    expect(disconnectAction('ping timeout', undefined)).toEqual({ kind: 'auto', tokenReason: 'reconnect' });
  });

  it('stops after an unexplained server-side disconnect and after close()', () => {
    expect(disconnectAction('io server disconnect', undefined)).toEqual({ kind: 'stop', reason: 'SERVER_DISCONNECT' });
    expect(disconnectAction('io client disconnect', undefined)).toEqual({ kind: 'stop', reason: 'CLOSED' });
  });
});

describe('drainDelayMs', () => {
  it('picks a point of the server\'s window, capped by the client\'s own ceiling', () => {
    expect(drainDelayMs(4000, 30_000, () => 0.25)).toBe(1000);
    expect(drainDelayMs(4000, 30_000, () => 0)).toBe(0);
    expect(drainDelayMs(60_000, 30_000, () => 1)).toBe(30_000);
  });

  it('ignores a missing or hostile window: reconnect as usual', () => {
    for (const window of [undefined, null, 0, -5, Number.NaN, Number.POSITIVE_INFINITY, '1000', {}]) expect(drainDelayMs(window, 30_000)).toBeUndefined();
  });
});
