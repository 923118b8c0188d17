import type { Role } from '../domain/roles.js';
import type { AccountStatus } from './accounts.js';

export interface User {
  readonly id: string;
  readonly email: string;
  /** Null until the user sets a password through a one-time link. */
  readonly passwordHash: string | null;
  readonly operator: boolean;
  readonly emailVerifiedAt: number | null;
  readonly createdAt: number;
}

export interface UserStore {
  /** Undefined when the email is already taken. */
  create(user: User): Promise<User | undefined>;
  find(id: string): Promise<User | undefined>;
  findByEmail(email: string): Promise<User | undefined>;
  setPassword(id: string, passwordHash: string, now: number): Promise<void>;
  markVerified(id: string, now: number): Promise<void>;
}

export interface Membership {
  readonly accountId: string;
  readonly userId: string;
  readonly role: Role;
  readonly createdAt: number;
}

/** A user's membership with what the dashboard shows of its account. */
export interface UserMembership extends Membership {
  readonly accountEmail: string;
  readonly accountStatus: AccountStatus;
}

export interface Member extends Membership {
  readonly email: string;
}

export interface MembershipStore {
  /** False when the user is already a member. */
  add(membership: Membership): Promise<boolean>;
  find(accountId: string, userId: string): Promise<Membership | undefined>;
  ofUser(userId: string): Promise<UserMembership[]>;
  ofAccount(accountId: string): Promise<Member[]>;
  setRole(accountId: string, userId: string, role: Role): Promise<boolean>;
  remove(accountId: string, userId: string): Promise<boolean>;
}

export interface Invite {
  readonly id: string;
  readonly accountId: string;
  readonly email: string;
  readonly role: Role;
  readonly invitedBy: string | null;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly acceptedAt: number | null;
  readonly revokedAt: number | null;
}

export interface InviteStore {
  create(invite: Invite & { readonly tokenHash: string }): Promise<void>;
  findByTokenHash(tokenHash: string): Promise<Invite | undefined>;
  /** Neither accepted, revoked nor expired. */
  pending(accountId: string, now: number): Promise<Invite[]>;
  /** Marks a pending invite accepted; false when it was no longer pending (one use only). */
  accept(id: string, now: number): Promise<boolean>;
  /** False when no pending invite of that account has this id. */
  revoke(accountId: string, id: string, now: number): Promise<boolean>;
}

/** reset: set a new password (also the first one, for users an operator created). verify: prove an email. */
export type TokenPurpose = 'reset' | 'verify';

export interface UserTokenStore {
  create(token: {
    tokenHash: string;
    userId: string;
    purpose: TokenPurpose;
    now: number;
    expiresAt: number;
  }): Promise<void>;
  /** Uses the token once: the user it belongs to, or undefined when unknown, used or expired. */
  consume(tokenHash: string, purpose: TokenPurpose, now: number): Promise<string | undefined>;
}

export interface Session {
  /** SHA-256 of the session id; the id itself lives only in the user's cookie. */
  readonly idHash: string;
  readonly userId: string;
  readonly createdAt: number;
  readonly lastSeenAt: number;
  /** The absolute timeout. */
  readonly expiresAt: number;
}

export interface SessionStore {
  create(session: Session): Promise<void>;
  find(idHash: string): Promise<Session | undefined>;
  touch(idHash: string, now: number): Promise<void>;
  delete(idHash: string): Promise<void>;
  /** Every session of the user but `except`; how many ended. */
  deleteOfUser(userId: string, except?: string): Promise<number>;
  /** Every session of every member of the account. */
  deleteOfAccountMembers(accountId: string): Promise<number>;
  /** Sessions past their absolute timeout, or idle since before `idleSince`. */
  deleteExpired(now: number, idleSince: number): Promise<number>;
}

/** Counters shared by every instance, for throttles and @fastify/rate-limit's store. */
export interface RateCounters {
  /** Counts one more event in the key's window (a new window once the last has ended). */
  increment(key: string, windowMs: number, now: number): Promise<{ count: number; resetsAt: number }>;
  read(key: string, now: number): Promise<{ count: number; resetsAt: number }>;
  reset(key: string): Promise<void>;
  deleteExpired(now: number): Promise<number>;
}

/** argon2id (or equivalent) hashes of passwords. */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /**
   * Without a hash (no such user, or no password yet) it verifies against a dummy hash and answers
   * false, so that the time taken does not tell whether the email has an account.
   */
  verify(hash: string | null, password: string): Promise<boolean>;
}

/** Random one-time tokens (session ids, links) and their SHA-256, which is all that is stored. */
export interface TokenIssuer {
  issue(): { readonly token: string; readonly hash: string };
  hash(token: string): string;
}

export interface MailMessage {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
}
