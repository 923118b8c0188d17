import type { Clock } from '../../ports/system.js';
import type { RateCounters } from '../../ports/users.js';

interface Limit {
  readonly failures: number;
  readonly windowMs: number;
}

/**
 * Failed sign-ins, counted per email and client address, per email from anywhere, and per address.
 * - The tight limit is per email and address: the real user, signing in from elsewhere, is not
 *   blocked by an attacker guessing from one place.
 * - The per-email limit caps guessing spread over many addresses; it is looser, and like every
 *   limit here it lasts one fixed window at most, so nobody can be locked out for good.
 * - A successful sign-in clears its email-and-address counter; a password reset clears the email's.
 * The counters live in the database, shared by every instance.
 */
export const LOGIN_LIMITS = {
  emailAndAddress: { failures: 5, windowMs: 15 * 60_000 },
  email: { failures: 20, windowMs: 60 * 60_000 },
  address: { failures: 100, windowMs: 60 * 60_000 },
} as const satisfies Record<string, Limit>;

export type ThrottleVerdict =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly retryAfterSeconds: number };

export class LoginThrottle {
  constructor(
    private readonly counters: RateCounters,
    private readonly clock: Clock,
    /** A one-way hash, so that the counters' table holds no email address. */
    private readonly digest: (text: string) => string,
  ) {}

  private keys(email: string, ip: string): [string, Limit][] {
    const id = this.digest(email);
    return [
      [`login:email+ip:${id}:${ip}`, LOGIN_LIMITS.emailAndAddress],
      [`login:email:${id}`, LOGIN_LIMITS.email],
      [`login:ip:${ip}`, LOGIN_LIMITS.address],
    ];
  }

  async check(email: string, ip: string): Promise<ThrottleVerdict> {
    const now = this.clock.now();
    let waitMs = 0;
    for (const [key, limit] of this.keys(email, ip)) {
      const { count, resetsAt } = await this.counters.read(key, now);
      if (count >= limit.failures) waitMs = Math.max(waitMs, resetsAt - now);
    }
    return waitMs > 0
      ? { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) }
      : { allowed: true };
  }

  async failed(email: string, ip: string): Promise<void> {
    const now = this.clock.now();
    for (const [key, limit] of this.keys(email, ip)) await this.counters.increment(key, limit.windowMs, now);
  }

  async succeeded(email: string, ip: string): Promise<void> {
    const [emailAndAddress] = this.keys(email, ip);
    if (emailAndAddress) await this.counters.reset(emailAndAddress[0]);
  }

  /** After a password reset: the owner of the address proved it, so the email's counters start over. */
  async clearEmail(email: string): Promise<void> {
    await this.counters.reset(`login:email:${this.digest(email)}`);
  }
}
