import { expiryOf } from './token-refresh';

const token = (payload: unknown): string => `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.sig`;

describe('expiryOf', () => {
  it('reads exp (seconds) as milliseconds, from base64url without padding', () => {
    expect(expiryOf(token({ sub: 'ü?>', exp: 1_900_000_000 }))).toBe(1_900_000_000_000);
  });

  it('is undefined for a token it cannot read: no payload, bad JSON, no or odd exp', () => {
    expect(expiryOf('opaque-token')).toBeUndefined();
    expect(expiryOf('a.%%%.b')).toBeUndefined();
    expect(expiryOf(token({ sub: 'x' }))).toBeUndefined();
    expect(expiryOf(token({ exp: '1900000000' }))).toBeUndefined();
  });
});
