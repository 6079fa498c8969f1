import type { IncomingMessage } from 'node:http';
import { peerAddress } from './client-ip';

const request = (remoteAddress: string, forwardedFor?: string): IncomingMessage =>
  ({ socket: { remoteAddress }, headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor } }) as unknown as IncomingMessage;

describe('peerAddress', () => {
  it('ignores X-Forwarded-For unless proxies are trusted', () => {
    expect(peerAddress(request('10.0.0.5', '1.2.3.4'), 0)).toBe('10.0.0.5');
  });

  it('believes exactly the trusted number of hops', () => {
    // client 1.1.1.1 → attacker-supplied 6.6.6.6 in front of it → proxy 10.0.0.5 → app
    const behindOneProxy = request('10.0.0.5', '6.6.6.6, 1.1.1.1');
    expect(peerAddress(behindOneProxy, 1)).toBe('1.1.1.1');
    expect(peerAddress(behindOneProxy, 2)).toBe('6.6.6.6');
  });

  it('falls back to the farthest address when the header is shorter than the hops', () => {
    expect(peerAddress(request('10.0.0.5'), 2)).toBe('10.0.0.5');
    expect(peerAddress(request('10.0.0.5', '1.1.1.1'), 3)).toBe('1.1.1.1');
  });
});
