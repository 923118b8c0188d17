import { normaliseEmail, passwordProblem } from '../../domain/password-policy.js';
import type { Role } from '../../domain/roles.js';
import type { AccountStore } from '../../ports/accounts.js';
import { type AuditLog, CLI_ACTOR } from '../../ports/audit.js';
import type { Clock } from '../../ports/system.js';
import type {
  MembershipStore,
  PasswordHasher,
  TokenIssuer,
  User,
  UserStore,
  UserTokenStore,
} from '../../ports/users.js';
import type { AccountResult } from '../accounts.js';
import type { Delivery, LinkDelivery } from './links.js';
import type { MemberService } from './members.js';

/** A link an operator passes on by hand may wait a while: a day rather than the hour of a self-service reset. */
export const OPERATOR_LINK_MS = 24 * 60 * 60_000;
/** The set-password link of a new user: as long as an invite. */
export const NEW_USER_LINK_MS = 7 * 24 * 60 * 60_000;

export interface NewUser {
  readonly email: string;
  readonly operator: boolean;
  readonly membership?: { readonly accountId: string; readonly role: Role };
  /** Sets the password directly (scripts, tests) instead of sending a set-password link. */
  readonly password?: string;
}

export interface UserAdminDeps {
  readonly users: UserStore;
  readonly accounts: AccountStore;
  readonly memberships: MembershipStore;
  readonly userTokens: UserTokenStore;
  readonly tokens: TokenIssuer;
  readonly passwords: PasswordHasher;
  readonly members: MemberService;
  readonly links: LinkDelivery;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly newId: (prefix: string) => string;
}

/** What operators do from the CLI: create users, invite them, send them a reset link. */
export class UserAdmin {
  constructor(private readonly deps: UserAdminDeps) {}

  async create(input: NewUser): Promise<AccountResult<{ user: User; delivery?: Delivery }>> {
    const { users, clock } = this.deps;
    const email = normaliseEmail(input.email);
    if (!email) return { ok: false, error: `not an email address: "${input.email}"` };
    if (input.password !== undefined) {
      const problem = passwordProblem(input.password);
      if (problem) return { ok: false, error: `password: ${problem}` };
    }
    if (input.membership && !(await this.deps.accounts.find(input.membership.accountId)))
      return { ok: false, error: `no account with id ${input.membership.accountId}` };
    const now = clock.now();
    const user = await users.create({
      id: this.deps.newId('usr'),
      email,
      passwordHash: input.password === undefined ? null : await this.deps.passwords.hash(input.password),
      operator: input.operator,
      // The operator vouches for the address.
      emailVerifiedAt: now,
      createdAt: now,
    });
    if (!user)
      return {
        ok: false,
        error: `a user with email ${email} already exists; use "users invite" to add them to an account`,
      };
    if (input.membership) {
      await this.deps.memberships.add({ ...input.membership, userId: user.id, createdAt: now });
      await this.deps.audit.record({
        accountId: input.membership.accountId,
        actor: CLI_ACTOR,
        action: 'member.added',
        target: { type: 'member', id: user.id, name: email },
        details: { role: input.membership.role },
      });
    }
    if (input.password !== undefined) return { ok: true, value: { user } };
    const delivery = await this.resetLink(
      user,
      NEW_USER_LINK_MS,
      'Choose your password',
      (link) =>
        `An account was created for you. Choose your password here: ${link}\n\nThe link works once, for 7 days.\n`,
    );
    return { ok: true, value: { user, delivery } };
  }

  async invite(
    email: string,
    accountId: string,
    role: Role,
  ): Promise<AccountResult<Delivery & { inviteId: string }>> {
    const invited = await this.deps.members.invite(CLI_ACTOR, accountId, email, role);
    if (!invited.ok) return { ok: false, error: invited.failure.message ?? invited.failure.code };
    return {
      ok: true,
      value: {
        inviteId: invited.value.invite.id,
        sent: invited.value.link === undefined,
        ...(invited.value.link === undefined ? {} : { link: invited.value.link }),
      },
    };
  }

  /** A one-time reset link; the user's sessions are left alone until the password actually changes. */
  async resetPassword(emailText: string): Promise<AccountResult<{ user: User; delivery: Delivery }>> {
    const email = normaliseEmail(emailText);
    const user = email ? await this.deps.users.findByEmail(email) : undefined;
    if (!user) return { ok: false, error: `no user with email ${emailText}` };
    const delivery = await this.resetLink(
      user,
      OPERATOR_LINK_MS,
      'Reset your password',
      (link) => `Choose a new password here: ${link}\n\nThe link works once, for 24 hours.\n`,
    );
    return { ok: true, value: { user, delivery } };
  }

  private async resetLink(
    user: User,
    validMs: number,
    subject: string,
    text: (link: string) => string,
  ): Promise<Delivery> {
    const { token, hash } = this.deps.tokens.issue();
    const now = this.deps.clock.now();
    await this.deps.userTokens.create({
      tokenHash: hash,
      userId: user.id,
      purpose: 'reset',
      now,
      expiresAt: now + validMs,
    });
    return this.deps.links.deliver(`/reset/${token}`, { to: user.email, subject, text });
  }
}
