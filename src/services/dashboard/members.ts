import { fail, type Outcome, ok } from '../../domain/dashboard-errors.js';
import { normaliseEmail } from '../../domain/password-policy.js';
import { can, canGrant, canManageMember, type Role } from '../../domain/roles.js';
import type { AccountStore } from '../../ports/accounts.js';
import type { Actor, AuditLog } from '../../ports/audit.js';
import type { Clock } from '../../ports/system.js';
import type {
  Invite,
  InviteStore,
  Member,
  MembershipStore,
  PasswordHasher,
  TokenIssuer,
  User,
  UserStore,
} from '../../ports/users.js';
import type { AccountAccess } from './access.js';
import type { LinkDelivery } from './links.js';
import type { SessionService } from './sessions.js';
import { checkNewPassword } from './sign-in.js';

export const INVITE_LINK_MS = 7 * 24 * 60 * 60_000;

export interface MemberList {
  readonly members: Member[];
  /** Pending invites, for owners and admins; empty for the other roles. */
  readonly invites: Invite[];
}

export interface CreatedInvite {
  readonly invite: Invite;
  /** Present only when no SMTP is configured: shown once to the inviter. */
  readonly link?: string;
}

export interface MemberDeps {
  readonly access: AccountAccess;
  readonly accounts: AccountStore;
  readonly users: UserStore;
  readonly memberships: MembershipStore;
  readonly invites: InviteStore;
  readonly tokens: TokenIssuer;
  readonly passwords: PasswordHasher;
  readonly sessions: SessionService;
  readonly links: LinkDelivery;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly newId: (prefix: string) => string;
}

/** Teams: who belongs to an account with which role, and the invites that bring people in. */
export class MemberService {
  constructor(private readonly deps: MemberDeps) {}

  async list(userId: string, accountId: string): Promise<Outcome<MemberList>> {
    const access = await this.deps.access.require(userId, accountId, 'members.read');
    if (!access.ok) return access;
    const members = await this.deps.memberships.ofAccount(accountId);
    const seesInvites = (await this.deps.access.require(userId, accountId, 'invites.read')).ok;
    const invites = seesInvites ? await this.deps.invites.pending(accountId, this.deps.clock.now()) : [];
    return ok({ members, invites });
  }

  /** An invite by the operator (`actor` cli) or by an owner or admin of the account. */
  async invite(
    actor: Actor,
    accountId: string,
    emailText: string,
    role: Role,
  ): Promise<Outcome<CreatedInvite>> {
    if (actor.kind === 'user') {
      const access = await this.deps.access.require(actor.userId, accountId, 'invites.manage');
      if (!access.ok) return access;
      if (!canGrant(access.value.membership.role, role))
        return fail('forbidden', 'Only an owner can invite an owner.');
    } else if (!(await this.deps.accounts.find(accountId))) {
      return fail('not_found', `No account with id ${accountId}.`);
    }
    const email = normaliseEmail(emailText);
    if (!email) return fail('invalid_request', 'Enter a valid email address.', 'email');
    const existing = await this.deps.users.findByEmail(email);
    if (existing && (await this.deps.memberships.find(accountId, existing.id)))
      return fail('invalid_request', `${email} is already a member of this account.`, 'email');
    const { token, hash } = this.deps.tokens.issue();
    const now = this.deps.clock.now();
    const invite: Invite = {
      id: this.deps.newId('inv'),
      accountId,
      email,
      role,
      invitedBy: actor.kind === 'user' ? actor.userId : null,
      createdAt: now,
      expiresAt: now + INVITE_LINK_MS,
      acceptedAt: null,
      revokedAt: null,
    };
    await this.deps.invites.create({ ...invite, tokenHash: hash });
    const delivery = await this.deps.links.deliver(`/invite/${token}`, {
      to: email,
      subject: 'You are invited to a Tollgate account',
      text: (link) =>
        `You are invited to join an account as ${role}. Accept the invitation and choose a password here: ${link}\n\nThe link works once, for 7 days.\n`,
    });
    await this.deps.audit.record({
      accountId,
      actor,
      action: 'invite.created',
      target: { type: 'invite', id: invite.id, name: email },
      details: { role },
    });
    return ok({ invite, ...(delivery.link === undefined ? {} : { link: delivery.link }) });
  }

  /** What an invite link offers, without using it. */
  async inviteInfo(token: string): Promise<Outcome<{ invite: Invite; accountEmail: string }>> {
    const invite = await this.pendingInvite(token);
    const account = invite ? await this.deps.accounts.find(invite.accountId) : undefined;
    if (!invite || !account) return fail('invalid_link');
    return ok({ invite, accountEmail: account.email });
  }

  /**
   * Accepts an invite: a new user chooses a password; an existing user proves theirs, so that an
   * invite link can never reset someone's password.
   */
  async accept(token: string, password: string): Promise<Outcome<User>> {
    const invite = await this.pendingInvite(token);
    if (!invite) return fail('invalid_link');
    const now = this.deps.clock.now();
    let user = await this.deps.users.findByEmail(invite.email);
    let newPasswordHash: string | undefined;
    if (user?.passwordHash) {
      if (!(await this.deps.passwords.verify(user.passwordHash, password)))
        return fail(
          'invalid_request',
          'This email address already has an account: enter its password.',
          'password',
        );
    } else {
      const checked = checkNewPassword(password);
      if (!checked.ok) return checked;
      newPasswordHash = await this.deps.passwords.hash(password);
    }
    // Used once: of two acceptances at the same moment, only one gets past here.
    if (!(await this.deps.invites.accept(invite.id, now))) return fail('invalid_link');
    if (newPasswordHash !== undefined) {
      if (user) await this.deps.users.setPassword(user.id, newPasswordHash, now);
      // The link reached the address (or its holder was vouched for by the inviter): verified.
      else
        user = await this.deps.users.create({
          id: this.deps.newId('usr'),
          email: invite.email,
          passwordHash: newPasswordHash,
          operator: false,
          emailVerifiedAt: now,
          createdAt: now,
        });
    }
    user ??= await this.deps.users.findByEmail(invite.email);
    if (!user) return fail('invalid_link');
    await this.deps.users.markVerified(user.id, now);
    const actor: Actor = { kind: 'user', userId: user.id };
    await this.deps.memberships.add({
      accountId: invite.accountId,
      userId: user.id,
      role: invite.role,
      createdAt: now,
    });
    await this.deps.audit.record({
      accountId: invite.accountId,
      actor,
      action: 'invite.accepted',
      target: { type: 'invite', id: invite.id, name: invite.email },
    });
    await this.deps.audit.record({
      accountId: invite.accountId,
      actor,
      action: 'member.added',
      target: { type: 'member', id: user.id, name: user.email },
      details: { role: invite.role },
    });
    return ok((await this.deps.users.find(user.id)) ?? user);
  }

  async revokeInvite(userId: string, accountId: string, inviteId: string): Promise<Outcome<void>> {
    // Another account's invite is not_found before any role check: its existence stays hidden.
    const access = await this.deps.access.require(userId, accountId, 'members.read');
    if (!access.ok) return access;
    const now = this.deps.clock.now();
    const pending = (await this.deps.invites.pending(accountId, now)).find((i) => i.id === inviteId);
    if (!pending) return fail('not_found');
    if (!can(access.value.membership.role, 'invites.manage')) return fail('forbidden');
    if (!(await this.deps.invites.revoke(accountId, inviteId, now))) return fail('not_found');
    await this.deps.audit.record({
      accountId,
      actor: { kind: 'user', userId },
      action: 'invite.revoked',
      target: { type: 'invite', id: inviteId, name: pending.email },
    });
    return ok(undefined);
  }

  async changeRole(
    userId: string,
    accountId: string,
    memberId: string,
    role: Role,
  ): Promise<Outcome<Member>> {
    const access = await this.deps.access.require(userId, accountId, 'members.read');
    if (!access.ok) return access;
    const members = await this.deps.memberships.ofAccount(accountId);
    const target = members.find((m) => m.userId === memberId);
    if (!target) return fail('not_found');
    const actorRole = access.value.membership.role;
    if (!canManageMember(actorRole, target.role) || !canGrant(actorRole, role)) return fail('forbidden');
    if (target.role === 'owner' && role !== 'owner' && members.filter((m) => m.role === 'owner').length === 1)
      return fail(
        'invalid_request',
        'An account needs at least one owner: make someone else an owner first.',
        'role',
      );
    if (target.role !== role) {
      await this.deps.memberships.setRole(accountId, memberId, role);
      await this.deps.audit.record({
        accountId,
        actor: { kind: 'user', userId },
        action: 'member.role_changed',
        target: { type: 'member', id: memberId, name: target.email },
        details: { from: target.role, to: role },
      });
    }
    return ok({ ...target, role });
  }

  /**
   * Removes a member (anyone may leave); the removed user's sessions end, so an open dashboard
   * cannot keep acting for the account.
   */
  async remove(userId: string, accountId: string, memberId: string): Promise<Outcome<void>> {
    const access = await this.deps.access.require(userId, accountId, 'members.read');
    if (!access.ok) return access;
    const members = await this.deps.memberships.ofAccount(accountId);
    const target = members.find((m) => m.userId === memberId);
    if (!target) return fail('not_found');
    if (memberId !== userId && !canManageMember(access.value.membership.role, target.role))
      return fail('forbidden');
    if (target.role === 'owner' && members.filter((m) => m.role === 'owner').length === 1)
      return fail(
        'invalid_request',
        'An account needs at least one owner: make someone else an owner first.',
      );
    await this.deps.memberships.remove(accountId, memberId);
    await this.deps.sessions.endAllOfUser(memberId);
    await this.deps.audit.record({
      accountId,
      actor: { kind: 'user', userId },
      action: 'member.removed',
      target: { type: 'member', id: memberId, name: target.email },
      details: { role: target.role },
    });
    return ok(undefined);
  }

  private async pendingInvite(token: string): Promise<Invite | undefined> {
    if (token.length === 0 || token.length > 100) return undefined;
    const invite = await this.deps.invites.findByTokenHash(this.deps.tokens.hash(token));
    const now = this.deps.clock.now();
    return invite && invite.acceptedAt === null && invite.revokedAt === null && invite.expiresAt > now
      ? invite
      : undefined;
  }
}
