import { AUTO_TOPUP_OFF } from '../domain/auto-topup.js';
import type { Micros } from '../domain/money.js';
import type { Account, AccountStore, TopupRequest } from '../ports/accounts.js';
import type { Ledger } from '../ports/ledger.js';
import type { Clock } from '../ports/system.js';
import { type AnnounceChange, announceNothing } from './change-announcer.js';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** One credit at most: a typo of a few zeros should fail loudly, not mint a fortune. */
export const MAX_CREDIT_MICROS: Micros = 1_000_000 * 1_000_000;

export type AccountResult<T> = { ok: true; value: T } | { ok: false; error: string };

export class AccountService {
  constructor(
    private readonly accounts: AccountStore,
    private readonly ledger: Ledger,
    private readonly clock: Clock,
    private readonly newId: (prefix: string) => string,
    /** Told after a suspension or a setting changes, so that every process's caches drop it. */
    private readonly announce: AnnounceChange = announceNothing,
    /** Told when an account is suspended: its members' dashboard sessions end. */
    private readonly onSuspended: (accountId: string) => Promise<unknown> = async () => {},
  ) {}

  async create(email: string): Promise<AccountResult<Account>> {
    const normalised = email.trim().toLowerCase();
    if (!EMAIL.test(normalised)) return { ok: false, error: `not an email address: "${email}"` };
    const account = await this.accounts.create({
      id: this.newId('acct'),
      email: normalised,
      now: this.clock.now(),
    });
    return account
      ? { ok: true, value: account }
      : { ok: false, error: `an account with email ${normalised} already exists` };
  }

  async setSuspended(id: string, suspended: boolean): Promise<AccountResult<Account>> {
    const changed = await this.accounts.setStatus(id, suspended ? 'suspended' : 'active');
    await this.announce({ scope: 'account', what: suspended ? 'suspended' : 'reactivated', accountId: id });
    if (changed && suspended) await this.onSuspended(id);
    const account = changed ? await this.accounts.find(id) : undefined;
    return account ? { ok: true, value: account } : { ok: false, error: `no account with id ${id}` };
  }

  async addCredits(accountId: string, amount: Micros, note: string): Promise<AccountResult<Account>> {
    if (!Number.isSafeInteger(amount) || amount <= 0 || amount > MAX_CREDIT_MICROS) {
      return { ok: false, error: 'the amount must be more than 0 and at most 1000000 USD' };
    }
    const credited = await this.ledger.credit({
      id: this.newId('led'),
      accountId,
      amount,
      note,
      now: this.clock.now(),
    });
    const account = credited ? await this.accounts.find(accountId) : undefined;
    return account ? { ok: true, value: account } : { ok: false, error: `no account with id ${accountId}` };
  }

  /** Turns auto top-up on with a threshold and an amount, or off (`undefined`). */
  async setAutoTopup(
    accountId: string,
    settings: { thresholdMicros: Micros; amountMicros: Micros } | undefined,
  ): Promise<AccountResult<Account>> {
    const inRange = (micros: Micros) =>
      Number.isSafeInteger(micros) && micros > 0 && micros <= MAX_CREDIT_MICROS;
    if (settings && !inRange(settings.thresholdMicros))
      return { ok: false, error: 'the threshold must be more than 0 and at most 1000000 USD' };
    if (settings && !inRange(settings.amountMicros))
      return { ok: false, error: 'the top-up amount must be more than 0 and at most 1000000 USD' };
    const changed = await this.accounts.setAutoTopup(
      accountId,
      settings ? { enabled: true, ...settings } : AUTO_TOPUP_OFF,
    );
    await this.announce({ scope: 'account', what: 'changed', accountId });
    const account = changed ? await this.accounts.find(accountId) : undefined;
    return account ? { ok: true, value: account } : { ok: false, error: `no account with id ${accountId}` };
  }

  async topupRequests(accountId: string): Promise<AccountResult<TopupRequest[]>> {
    if (!(await this.accounts.find(accountId)))
      return { ok: false, error: `no account with id ${accountId}` };
    return { ok: true, value: await this.accounts.topupRequests(accountId) };
  }

  async find(id: string): Promise<Account | undefined> {
    return this.accounts.find(id);
  }
}
