import { fail, type Outcome, ok } from '../../domain/dashboard-errors.js';
import { normaliseEmail, passwordProblem } from '../../domain/password-policy.js';
import type { Clock } from '../../ports/system.js';
import type {
  MembershipStore,
  PasswordHasher,
  TokenIssuer,
  User,
  UserMembership,
  UserStore,
  UserTokenStore,
} from '../../ports/users.js';
import type { AccountService } from '../accounts.js';
import type { LinkDelivery } from './links.js';
import type { LoginThrottle } from './login-throttle.js';
import type { SessionService, StartedSession } from './sessions.js';

export const RESET_LINK_MS = 60 * 60_000;
export const VERIFY_LINK_MS = 24 * 60 * 60_000;

export interface SignedIn {
  readonly user: User;
  readonly memberships: UserMembership[];
  readonly started: StartedSession;
}

export interface SignInDeps {
  readonly users: UserStore;
  readonly memberships: MembershipStore;
  readonly userTokens: UserTokenStore;
  readonly tokens: TokenIssuer;
  readonly passwords: PasswordHasher;
  readonly sessions: SessionService;
  readonly throttle: LoginThrottle;
  readonly links: LinkDelivery;
  readonly accounts: AccountService;
  readonly clock: Clock;
  readonly newId: (prefix: string) => string;
  readonly signup: 'open' | 'invite' | 'off';
}

export function checkNewPassword(password: string): Outcome<string> {
  const problem = passwordProblem(password);
  return problem ? fail('invalid_request', `Password: ${problem}.`, 'password') : ok(password);
}

/**
 * Signing in and out, signing up, verifying an email, and resetting or changing a password. None of
 * the answers tells whether an email has an account: unknown emails get the same answers after the
 * same work (a password verification against a dummy hash, a hash computed and thrown away).
 */
export class SignInService {
  constructor(private readonly deps: SignInDeps) {}

  get signupMode(): SignInDeps['signup'] {
    return this.deps.signup;
  }

  async login(
    emailText: string,
    password: string,
    ip: string,
    previousSession: string | undefined,
  ): Promise<Outcome<SignedIn>> {
    const { users, passwords, throttle } = this.deps;
    const email = normaliseEmail(emailText) ?? emailText.trim().toLowerCase();
    const verdict = await throttle.check(email, ip);
    if (!verdict.allowed)
      return {
        ok: false,
        failure: { code: 'too_many_attempts', retryAfterSeconds: verdict.retryAfterSeconds },
      };
    const user = await users.findByEmail(email);
    const valid = await passwords.verify(user?.passwordHash ?? null, password);
    if (!user || !valid) {
      await throttle.failed(email, ip);
      return fail('invalid_credentials');
    }
    await throttle.succeeded(email, ip);
    // A fresh session id at every sign-in (no fixation); the session the browser had ends.
    if (previousSession) await this.deps.sessions.end(previousSession);
    return ok(await this.signedIn(user));
  }

  async signedIn(user: User): Promise<SignedIn> {
    const started = await this.deps.sessions.start(user.id);
    return { user, memberships: await this.deps.memberships.ofUser(user.id), started };
  }

  /** Open sign-up: a new user with a new account, unverified until the emailed link is followed. */
  async signup(emailText: string, password: string): Promise<Outcome<void>> {
    const { users, passwords, links, clock } = this.deps;
    if (this.deps.signup !== 'open') return fail('not_found');
    const email = normaliseEmail(emailText);
    if (!email) return fail('invalid_request', 'Enter a valid email address.', 'email');
    const checked = checkNewPassword(password);
    if (!checked.ok) return checked;
    const passwordHash = await passwords.hash(password);
    const existing = await users.findByEmail(email);
    if (existing) {
      links.sendInBackground('/login', {
        to: email,
        subject: 'Someone tried to sign up with your address',
        text: (link) =>
          `Someone (perhaps you) tried to sign up with this address, which already has an account.\n\nSign in at ${link}, or reset your password from there if you forgot it.\n`,
      });
      return ok(undefined);
    }
    const now = clock.now();
    const created = await users.create({
      id: this.deps.newId('usr'),
      email,
      passwordHash,
      operator: false,
      emailVerifiedAt: null,
      createdAt: now,
    });
    // Two sign-ups for one address at once: the second finds it taken, and answers the same.
    if (!created) return ok(undefined);
    const account = await this.deps.accounts.create(email);
    if (account.ok)
      await this.deps.memberships.add({
        accountId: account.value.id,
        userId: created.id,
        role: 'owner',
        createdAt: now,
      });
    await this.sendVerification(created);
    return ok(undefined);
  }

  async sendVerification(user: User): Promise<void> {
    const { token, hash } = this.deps.tokens.issue();
    const now = this.deps.clock.now();
    await this.deps.userTokens.create({
      tokenHash: hash,
      userId: user.id,
      purpose: 'verify',
      now,
      expiresAt: now + VERIFY_LINK_MS,
    });
    this.deps.links.sendInBackground(`/verify/${token}`, {
      to: user.email,
      subject: 'Verify your email address',
      text: (link) =>
        `Follow this link to verify your email address: ${link}\n\nIt works once, for 24 hours.\n`,
    });
  }

  async verifyEmail(token: string): Promise<Outcome<void>> {
    const now = this.deps.clock.now();
    const userId = await this.deps.userTokens.consume(this.deps.tokens.hash(token), 'verify', now);
    if (!userId) return fail('invalid_link');
    await this.deps.users.markVerified(userId, now);
    return ok(undefined);
  }

  /** Always the same answer; a link goes out only when the email has an account and SMTP is set. */
  async requestReset(emailText: string): Promise<void> {
    const email = normaliseEmail(emailText);
    const user = email ? await this.deps.users.findByEmail(email) : undefined;
    const { token, hash } = this.deps.tokens.issue();
    if (!user || !this.deps.links.mails) return;
    const now = this.deps.clock.now();
    await this.deps.userTokens.create({
      tokenHash: hash,
      userId: user.id,
      purpose: 'reset',
      now,
      expiresAt: now + RESET_LINK_MS,
    });
    this.deps.links.sendInBackground(`/reset/${token}`, {
      to: user.email,
      subject: 'Reset your password',
      text: (link) =>
        `Follow this link to choose a new password: ${link}\n\nIt works once, for one hour. If you did not ask for it, ignore this message.\n`,
    });
  }

  /** A new password through a one-time link; every session of the user ends. */
  async resetPassword(token: string, password: string): Promise<Outcome<void>> {
    const checked = checkNewPassword(password);
    if (!checked.ok) return checked;
    const now = this.deps.clock.now();
    const userId = await this.deps.userTokens.consume(this.deps.tokens.hash(token), 'reset', now);
    const user = userId ? await this.deps.users.find(userId) : undefined;
    if (!user) return fail('invalid_link');
    await this.deps.users.setPassword(user.id, await this.deps.passwords.hash(password), now);
    // The link reached the address: that proves it as well as a verification link would.
    await this.deps.users.markVerified(user.id, now);
    await this.deps.sessions.endAllOfUser(user.id);
    await this.deps.throttle.clearEmail(user.email);
    return ok(undefined);
  }

  /** Ends every other session and gives the current one a fresh id. */
  async changePassword(
    userId: string,
    sessionIdHash: string,
    current: string,
    next: string,
    ip: string,
  ): Promise<Outcome<StartedSession>> {
    const user = await this.deps.users.find(userId);
    if (!user) return fail('not_signed_in');
    // A stolen session must not become a way to guess the password without limit.
    const verdict = await this.deps.throttle.check(user.email, ip);
    if (!verdict.allowed)
      return {
        ok: false,
        failure: { code: 'too_many_attempts', retryAfterSeconds: verdict.retryAfterSeconds },
      };
    if (!(await this.deps.passwords.verify(user.passwordHash, current))) {
      await this.deps.throttle.failed(user.email, ip);
      return fail('invalid_request', 'The current password is incorrect.', 'currentPassword');
    }
    const problem = passwordProblem(next);
    if (problem) return fail('invalid_request', `New password: ${problem}.`, 'newPassword');
    await this.deps.users.setPassword(user.id, await this.deps.passwords.hash(next), this.deps.clock.now());
    await this.deps.sessions.endAllOfUser(user.id, sessionIdHash);
    await this.deps.sessions.end(sessionIdHash);
    return ok(await this.deps.sessions.start(user.id));
  }

  async me(userId: string): Promise<{ user: User; memberships: UserMembership[] } | undefined> {
    const user = await this.deps.users.find(userId);
    return user ? { user, memberships: await this.deps.memberships.ofUser(user.id) } : undefined;
  }
}
