import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sign, type SignOptions } from 'jsonwebtoken';

/** An RS256 signing key as an identity provider holds it: the private half signs, the JWK is published. */
export interface IdpKey {
  kid: string;
  privateKey: KeyObject;
  publicPem: string;
  jwk: Record<string, unknown>;
  sign(claims: Record<string, unknown>, options?: SignOptions): string;
}

export function idpKey(kid: string): IdpKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
  return {
    kid,
    privateKey,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    jwk,
    sign: (claims, options = {}) => sign(claims, privateKey, { algorithm: 'RS256', keyid: kid, expiresIn: 600, ...options }),
  };
}

/** A local JWKS endpoint the test controls: what it serves, how many times it was fetched, and whether it is up. */
export class JwksServer {
  fetches = 0;
  private body = '{"keys":[]}';
  private readonly sockets = new Set<import('node:net').Socket>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(keys: IdpKey[] = []): Promise<JwksServer> {
    let self: JwksServer | undefined;
    const server = createServer((_request, response) => {
      if (!self) return;
      self.fetches += 1;
      response.writeHead(200, { 'content-type': 'application/jwk-set+json' });
      response.end(self.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    self = new JwksServer(server, `http://127.0.0.1:${port}/.well-known/jwks.json`);
    server.on('connection', (socket) => {
      self?.sockets.add(socket);
      socket.on('close', () => self?.sockets.delete(socket));
    });
    self.serve(keys);
    return self;
  }

  serve(keys: IdpKey[]): void {
    this.body = JSON.stringify({ keys: keys.map((key) => key.jwk) });
  }

  /** Serves any text (an invalid or oversized document). */
  serveRaw(body: string): void {
    this.body = body;
  }

  /** Down: the port stops listening and open keep-alive connections are cut. */
  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
