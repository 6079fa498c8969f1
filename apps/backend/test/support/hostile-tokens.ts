import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { sign } from 'jsonwebtoken';
import { TEST_JWT_SECRET } from './test-app';
import { demoUser, tokenFor } from './users';

const b64 = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = (): number => Math.floor(Date.now() / 1000);

/** An unsigned token with a chosen header, e.g. `alg: none`. */
export function unsigned(header: object, payload: object, signature = ''): string {
  return `${b64(header)}.${b64(payload)}.${signature}`;
}

/** RSA key pair for RS256 configurations and HS/RS confusion attempts. */
export const rsaKeys = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});

/** Every token an attacker tries first, against an HS256 deployment with TEST_JWT_SECRET. */
export async function hostileTokens(): Promise<[string, string][]> {
  const user = await demoUser('user@acme.test');
  const valid = await tokenFor('user@acme.test');
  const [header, payload, signature] = valid.split('.');
  const claims = { sub: user.id, exp: now() + 600, iat: now() };
  const tampered = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
  tampered.sub = (await demoUser('root@platform.test')).id;
  return [
    ...['none', 'None', 'NONE', 'nOnE'].map((alg): [string, string] => [`alg ${alg}`, unsigned({ alg, typ: 'JWT' }, claims)]),
    ['alg none with a signature', unsigned({ alg: 'none' }, claims, 'c2lnbmF0dXJl')],
    ['wrong key', sign(claims, 'another-secret-that-is-long-enough-0123456789', { algorithm: 'HS256' })],
    ['tampered payload', `${header}.${b64(tampered)}.${signature}`],
    ['expired', sign({ sub: user.id, exp: now() - 60 }, TEST_JWT_SECRET, { algorithm: 'HS256' })],
    ['nbf in the future', sign({ ...claims, nbf: now() + 3600 }, TEST_JWT_SECRET, { algorithm: 'HS256' })],
    ['iat in the future', sign({ ...claims, iat: now() + 3600 }, TEST_JWT_SECRET, { algorithm: 'HS256' })],
    ['missing exp', sign({ sub: user.id }, TEST_JWT_SECRET, { algorithm: 'HS256' })],
    ['missing sub', sign({ exp: now() + 600 }, TEST_JWT_SECRET, { algorithm: 'HS256' })],
    ['sub of another type', sign({ sub: 12345, exp: now() + 600 } as object, TEST_JWT_SECRET, { algorithm: 'HS256' })],
    ['unknown user', sign({ sub: randomUUID(), exp: now() + 600 }, TEST_JWT_SECRET, { algorithm: 'HS256' })],
    ['inactive user', await tokenFor('inactive@acme.test')],
    ['RS256 token to an HS256 server', sign(claims, rsaKeys.privateKey, { algorithm: 'RS256' })],
    ['jku header', sign(claims, TEST_JWT_SECRET, { algorithm: 'HS256', header: { alg: 'HS256', jku: 'https://evil.test/jwks' } })],
    ['oversized', sign({ ...claims, pad: 'x'.repeat(10_000) }, TEST_JWT_SECRET, { algorithm: 'HS256' })],
    ['not a JWT', 'definitely-not-a-token'],
    ['empty', ''],
    ['header only', `${header}..`],
  ];
}
