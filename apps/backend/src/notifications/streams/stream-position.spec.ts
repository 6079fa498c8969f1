import { decodePosition, encodePosition, PositionSyntaxError, positionsFromList } from './stream-position';

const superAdmin = { userId: '11111111-1111-4111-8111-111111111111', tenantId: '22222222-2222-4222-8222-222222222222', role: 'SUPER_ADMIN' as const };
const user = { ...superAdmin, role: 'USER' as const };

describe('stream positions', () => {
  it('round-trips every stream a reader reads, in a fixed order', () => {
    const encoded = 'u.abcdEFGH12.42_t.tenantEpoch1.0_g.GLOBALepoch.9223372036854775807';
    const positions = decodePosition(encoded, superAdmin);
    expect([...positions.keys()]).toEqual([`user:${superAdmin.userId}`, `tenant:${superAdmin.tenantId}`, 'global']);
    expect(positions.get('global')?.offset).toBe(9223372036854775807n);
    expect(encodePosition(positions, superAdmin)).toBe(encoded);
    expect(encodePosition(decodePosition('g.GLOBALepoch.1_u.abcdEFGH12.2', superAdmin), superAdmin)).toBe('u.abcdEFGH12.2_g.GLOBALepoch.1');
  });

  it('ignores streams the reader does not read (a stale position after a role change)', () => {
    const positions = decodePosition('u.abcdEFGH12.3_g.GLOBALepoch.1', user);
    expect([...positions.keys()]).toEqual([`user:${user.userId}`]);
  });

  it.each([
    '',
    'u',
    'u.abcdEFGH12',
    'u.abcdEFGH12.01',
    'u.abcdEFGH12.-1',
    'u.abcdEFGH12.9223372036854775808',
    'u.abcdEFGH12.99999999999999999999',
    'u.short.1',
    'u.abcdEFGH12abcdEFGH.1',
    'u.abcd-FGH12.1',
    'x.abcdEFGH12.1',
    'u.abcdEFGH12.1_u.abcdEFGH12.2',
    'u.abcdEFGH12.1_',
    'u.abcdEFGH12.1__t.abcdEFGH12.1',
    'u.abcdEFGH12.1 ',
    'u.abcdEFGH12.1\n',
    'u.abcdEFGH12.1_t.abcdEFGH12.1_g.abcdEFGH12.1_u.abcdEFGH12.1',
    'U.abcdEFGH12.1',
    'u.abcdEFGH12.１',
    'u.' + 'a'.repeat(200) + '.1',
  ])('refuses %j', (encoded) => {
    expect(() => decodePosition(encoded, superAdmin)).toThrow(PositionSyntaxError);
  });

  it('checks the structured form by the same rules', () => {
    const stream = `user:${user.userId}`;
    expect(positionsFromList([{ stream, epoch: 'abcdEFGH12', offset: '5' }], user).get(stream)).toEqual({ epoch: 'abcdEFGH12', offset: 5n });
    expect(positionsFromList([{ stream: 'global', epoch: 'abcdEFGH12', offset: '5' }], user).size).toBe(0);
    for (const bad of [
      { stream, epoch: 'abc', offset: '5' },
      { stream, epoch: 'abcdEFGH12', offset: '05' },
      { stream: 'user:../../etc', epoch: 'abcdEFGH12', offset: '5' },
    ]) {
      expect(() => positionsFromList([bad], user)).toThrow(PositionSyntaxError);
    }
    expect(() => positionsFromList([{ stream, epoch: 'abcdEFGH12', offset: '1' }, { stream, epoch: 'abcdEFGH12', offset: '2' }], user)).toThrow(PositionSyntaxError);
  });
});
