import type { Kysely, Selectable } from 'kysely';
import type { Role } from '../domain/roles.js';
import type { AccountStatus } from '../ports/accounts.js';
import type {
  Invite,
  InviteStore,
  Member,
  Membership,
  MembershipStore,
  UserMembership,
} from '../ports/users.js';
import type { Database, InvitesTable } from './tables.js';

export class KyselyMembershipStore implements MembershipStore {
  constructor(private readonly db: Kysely<Database>) {}

  async add(membership: Membership): Promise<boolean> {
    const inserted = await this.db
      .insertInto('memberships')
      .values({
        account_id: membership.accountId,
        user_id: membership.userId,
        role: membership.role,
        created_at: membership.createdAt,
      })
      .onConflict((oc) => oc.columns(['account_id', 'user_id']).doNothing())
      .executeTakeFirst();
    return Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  async find(accountId: string, userId: string): Promise<Membership | undefined> {
    const row = await this.db
      .selectFrom('memberships')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row
      ? {
          accountId: row.account_id,
          userId: row.user_id,
          role: row.role as Role,
          createdAt: Number(row.created_at),
        }
      : undefined;
  }

  async ofUser(userId: string): Promise<UserMembership[]> {
    const rows = await this.db
      .selectFrom('memberships as m')
      .innerJoin('accounts as a', 'a.id', 'm.account_id')
      .select(['m.account_id', 'm.user_id', 'm.role', 'm.created_at', 'a.email', 'a.status'])
      .where('m.user_id', '=', userId)
      .orderBy('m.created_at')
      .execute();
    return rows.map((row) => ({
      accountId: row.account_id,
      userId: row.user_id,
      role: row.role as Role,
      createdAt: Number(row.created_at),
      accountEmail: row.email,
      accountStatus: row.status as AccountStatus,
    }));
  }

  async ofAccount(accountId: string): Promise<Member[]> {
    const rows = await this.db
      .selectFrom('memberships as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .select(['m.account_id', 'm.user_id', 'm.role', 'm.created_at', 'u.email'])
      .where('m.account_id', '=', accountId)
      .orderBy('m.created_at')
      .orderBy('u.email')
      .execute();
    return rows.map((row) => ({
      accountId: row.account_id,
      userId: row.user_id,
      role: row.role as Role,
      createdAt: Number(row.created_at),
      email: row.email,
    }));
  }

  async setRole(accountId: string, userId: string, role: Role): Promise<boolean> {
    const result = await this.db
      .updateTable('memberships')
      .set({ role })
      .where('account_id', '=', accountId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }

  async remove(accountId: string, userId: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('memberships')
      .where('account_id', '=', accountId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return result.numDeletedRows === 1n;
  }
}

function toInvite(row: Selectable<InvitesTable>): Invite {
  return {
    id: row.id,
    accountId: row.account_id,
    email: row.email,
    role: row.role as Role,
    invitedBy: row.invited_by,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    acceptedAt: row.accepted_at === null ? null : Number(row.accepted_at),
    revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
  };
}

export class KyselyInviteStore implements InviteStore {
  constructor(private readonly db: Kysely<Database>) {}

  async create(invite: Invite & { readonly tokenHash: string }): Promise<void> {
    await this.db
      .insertInto('invites')
      .values({
        id: invite.id,
        account_id: invite.accountId,
        email: invite.email,
        role: invite.role,
        token_hash: invite.tokenHash,
        invited_by: invite.invitedBy,
        created_at: invite.createdAt,
        expires_at: invite.expiresAt,
        accepted_at: invite.acceptedAt,
        revoked_at: invite.revokedAt,
      })
      .execute();
  }

  async findByTokenHash(tokenHash: string): Promise<Invite | undefined> {
    const row = await this.db
      .selectFrom('invites')
      .selectAll()
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
    return row ? toInvite(row) : undefined;
  }

  async pending(accountId: string, now: number): Promise<Invite[]> {
    const rows = await this.db
      .selectFrom('invites')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('accepted_at', 'is', null)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now)
      .orderBy('created_at')
      .execute();
    return rows.map(toInvite);
  }

  async accept(id: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('invites')
      .set({ accepted_at: now })
      .where('id', '=', id)
      .where('accepted_at', 'is', null)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }

  async revoke(accountId: string, id: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('invites')
      .set({ revoked_at: now })
      .where('id', '=', id)
      .where('account_id', '=', accountId)
      .where('accepted_at', 'is', null)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }
}
