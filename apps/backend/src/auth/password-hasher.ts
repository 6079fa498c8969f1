import { Injectable } from '@nestjs/common';
import * as argon2 from 'argon2';

/** argon2id hashing; verification costs the same whether or not the user exists. */
@Injectable()
export class PasswordHasher {
  // Hash of a random string, verified against when the email is unknown so timing does not tell.
  private readonly decoy = argon2.hash(`decoy-${Math.random()}`, { type: argon2.argon2id });

  hash(password: string): Promise<string> {
    return argon2.hash(password, { type: argon2.argon2id });
  }

  async verify(hash: string | null, password: string): Promise<boolean> {
    try {
      const matches = await argon2.verify(hash ?? (await this.decoy), password);
      return hash !== null && matches;
    } catch {
      return false;
    }
  }
}
