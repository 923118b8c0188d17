import type { Command } from 'commander';
import { formatUsd, parseUsd } from '../domain/money.js';
import { accountJson } from './accounts.js';
import { type GlobalOptions, withServices } from './context.js';
import { print, UsageError } from './output.js';

export function registerCreditCommands(program: Command, globals: () => GlobalOptions): void {
  const credits = program.command('credits').description('prepaid credits');

  credits
    .command('add <accountId>')
    .description('add prepaid USD credits to an account')
    .requiredOption('--usd <amount>', 'amount in USD, such as 5.00 (up to 6 decimal places)')
    .option('--note <text>', 'a note kept with the ledger entry', 'credits added with the CLI')
    .action(async (accountId: string, options: { usd: string; note: string }) => {
      const amount = parseUsd(options.usd);
      if (amount === undefined) {
        throw new UsageError(`--usd: expected a positive amount such as 5.00, got "${options.usd}"`);
      }
      const result = await withServices(globals(), (s) =>
        s.accounts.addCredits(accountId, amount, options.note),
      );
      if (!result.ok) throw new UsageError(result.error);
      print(
        globals().json,
        { ...accountJson(result.value), added_micros: amount },
        () =>
          `added ${formatUsd(amount)} to ${accountId}; balance is now ${formatUsd(result.value.availableMicros)}`,
      );
    });
}
