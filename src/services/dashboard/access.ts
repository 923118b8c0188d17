import { type DashboardFailure, fail, type Outcome, ok } from '../../domain/dashboard-errors.js';
import { type AccountAction, can } from '../../domain/roles.js';
import type { Account, AccountStore } from '../../ports/accounts.js';
import type { Membership, MembershipStore } from '../../ports/users.js';

export interface AccountContext {
  readonly account: Account;
  readonly membership: Membership;
}

/**
 * Who may do what in an account. A user who is not a member gets not_found, exactly as for an
 * account that does not exist, so that ids of other accounts reveal nothing; a member whose role is
 * too low gets forbidden.
 */
export class AccountAccess {
  constructor(
    private readonly memberships: MembershipStore,
    private readonly accounts: AccountStore,
  ) {}

  async require(userId: string, accountId: string, action: AccountAction): Promise<Outcome<AccountContext>> {
    const membership = await this.memberships.find(accountId, userId);
    if (!membership) return fail('not_found');
    const account = await this.accounts.find(accountId);
    if (!account) return fail('not_found');
    if (!can(membership.role, action)) return fail('forbidden');
    return ok({ account, membership });
  }
}

export function suspended(account: Account): DashboardFailure | undefined {
  return account.status === 'active' ? undefined : { code: 'account_suspended' };
}
