import type { Command } from 'commander';
import { formatUsd } from '../domain/money.js';
import type { Account } from '../ports/accounts.js';
import { type GlobalOptions, withServices } from './context.js';
import { print, UsageError } from './output.js';

export function accountJson(account: Account) {
  return {
    id: account.id,
    email: account.email,
    status: account.status,
    balance_micros: account.availableMicros,
    balance_usd: formatUsd(account.availableMicros),
    auto_topup: account.autoTopup.enabled
      ? {
          threshold_usd: formatUsd(account.autoTopup.thresholdMicros),
          amount_usd: formatUsd(account.autoTopup.amountMicros),
        }
      : null,
    tier: account.tier,
    created_at: new Date(account.createdAt).toISOString(),
  };
}

export function registerAccountCommands(program: Command, globals: () => GlobalOptions): void {
  const accounts = program.command('accounts').description('create and manage accounts');

  accounts
    .command('create')
    .description('create an account')
    .requiredOption('--email <email>', 'the account holder’s email address')
    .action(async (options: { email: string }) => {
      const result = await withServices(globals(), (s) => s.accounts.create(options.email));
      if (!result.ok) throw new UsageError(result.error);
      print(
        globals().json,
        accountJson(result.value),
        () => `created account ${result.value.id} (${result.value.email})`,
      );
    });

  accounts
    .command('show <accountId>')
    .description('show an account and its balance')
    .action(async (accountId: string) => {
      const account = await withServices(globals(), (s) => s.accounts.find(accountId));
      if (!account) throw new UsageError(`no account with id ${accountId}`);
      print(globals().json, accountJson(account), () =>
        [
          `${account.id}  ${account.email}  ${account.status}`,
          `balance: ${formatUsd(account.availableMicros)}`,
        ].join('\n'),
      );
    });

  accounts
    .command('set-tier <accountId> <tier>')
    .description("give the account a tier of its own (it wins over its plan's tier); none clears it")
    .action(async (accountId: string, tier: string) => {
      const result = await withServices(globals(), (s) => s.tiers.set(accountId, tier));
      if (!result.ok) throw new UsageError(result.error);
      print(globals().json, accountJson(result.value), () =>
        result.value.tier === null
          ? `account ${accountId} has no tier of its own: its plan's tier or the default applies`
          : `account ${accountId} is now on the ${result.value.tier} tier`,
      );
    });

  for (const [name, suspended] of [
    ['suspend', true],
    ['unsuspend', false],
  ] as const) {
    accounts
      .command(`${name} <accountId>`)
      .description(suspended ? 'suspend an account: its keys get 403 until unsuspended' : 'lift a suspension')
      .action(async (accountId: string) => {
        const result = await withServices(globals(), (s) => s.accounts.setSuspended(accountId, suspended));
        if (!result.ok) throw new UsageError(result.error);
        print(
          globals().json,
          accountJson(result.value),
          () => `account ${accountId} is now ${result.value.status}`,
        );
      });
  }
}
