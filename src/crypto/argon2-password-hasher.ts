import type { Algorithm } from '@node-rs/argon2';
import type { PasswordHasher } from '../ports/users.js';

/** `Algorithm.Argon2id`: a const enum, which isolated modules cannot read from the declaration file. */
const ARGON2ID = 2 as Algorithm;

export interface Argon2Cost {
  /** OWASP's argon2id minimum: 19 MiB (19456 KiB), 2 iterations, parallelism 1. */
  readonly memoryKib: number;
  readonly iterations: number;
}

/** Loaded on first use: most CLI commands never hash a password, and the native module takes a while to load. */
let argon2: Promise<typeof import('@node-rs/argon2')> | undefined;
const load = () => {
  argon2 ??= import('@node-rs/argon2');
  return argon2;
};

/**
 * Passwords as argon2id hashes in PHC format (`$argon2id$v=19$m=…,t=…,p=1$salt$hash`): the cost is in
 * the hash, so raising it later leaves existing hashes verifiable.
 */
export class Argon2PasswordHasher implements PasswordHasher {
  private dummy: Promise<string> | undefined;

  constructor(private readonly cost: Argon2Cost) {}

  async hash(password: string): Promise<string> {
    const { hash } = await load();
    return hash(password, {
      algorithm: ARGON2ID,
      memoryCost: this.cost.memoryKib,
      timeCost: this.cost.iterations,
      parallelism: 1,
    });
  }

  async verify(stored: string | null, password: string): Promise<boolean> {
    const { verify } = await load();
    if (stored === null) {
      // Equal work for an unknown email: a verification at the same cost, whose answer is ignored.
      this.dummy ??= this.hash('dummy password that no user has');
      await verify(await this.dummy, password).catch(() => false);
      return false;
    }
    try {
      return await verify(stored, password);
    } catch {
      return false;
    }
  }
}
