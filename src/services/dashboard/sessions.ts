import type { Clock } from '../../ports/system.js';
import type { Session, SessionStore, TokenIssuer } from '../../ports/users.js';

export interface SessionPolicy {
  /** A session unused for this long ends (OWASP: idle timeout). */
  readonly idleMs: number;
  /** A session ends this long after sign-in, used or not (OWASP: absolute timeout). */
  readonly absoluteMs: number;
}

export interface StartedSession {
  /** The session id for the cookie; only its hash is stored. */
  readonly token: string;
  readonly session: Session;
}

/** How often a session's last use is written: often enough for the idle timeout, not on every request. */
function touchIntervalMs(policy: SessionPolicy): number {
  return Math.min(60_000, Math.floor(policy.idleMs / 10));
}

/**
 * Server-side sessions (OWASP Session Management): an opaque random id in the cookie, its SHA-256
 * in the database, a fresh id at every sign-in, idle and absolute timeouts checked on every use.
 */
export class SessionService {
  constructor(
    private readonly store: SessionStore,
    private readonly tokens: TokenIssuer,
    private readonly clock: Clock,
    private readonly policy: SessionPolicy,
  ) {}

  async start(userId: string): Promise<StartedSession> {
    const { token, hash } = this.tokens.issue();
    const now = this.clock.now();
    const session: Session = {
      idHash: hash,
      userId,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: now + this.policy.absoluteMs,
    };
    await this.store.create(session);
    return { token, session };
  }

  /** The live session a cookie names, or undefined; an expired one is deleted on the way. */
  async resolve(token: string | undefined): Promise<Session | undefined> {
    if (!token || token.length > 100) return undefined;
    const session = await this.store.find(this.tokens.hash(token));
    if (!session) return undefined;
    const now = this.clock.now();
    if (now >= session.expiresAt || now - session.lastSeenAt >= this.policy.idleMs) {
      await this.store.delete(session.idHash);
      return undefined;
    }
    if (now - session.lastSeenAt >= touchIntervalMs(this.policy)) {
      await this.store.touch(session.idHash, now);
      return { ...session, lastSeenAt: now };
    }
    return session;
  }

  end(idHash: string): Promise<void> {
    return this.store.delete(idHash);
  }

  /** Every session of the user; with `keep`, all but that one. */
  endAllOfUser(userId: string, keep?: string): Promise<number> {
    return this.store.deleteOfUser(userId, keep);
  }

  endAccountMembers(accountId: string): Promise<number> {
    return this.store.deleteOfAccountMembers(accountId);
  }

  sweep(): Promise<number> {
    const now = this.clock.now();
    return this.store.deleteExpired(now, now - this.policy.idleMs);
  }
}
