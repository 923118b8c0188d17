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

  credits
    .command('auto-topup <accountId>')
    .description('ask for a top-up whenever a request takes prepaid credit below a threshold')
    .option('--threshold-usd <amount>', 'top up when the balance falls below this, such as 2.00')
    .option('--amount-usd <amount>', 'how much to top up, such as 25.00')
    .option('--off', 'turn auto top-up off')
    .action(
      async (accountId: string, options: { thresholdUsd?: string; amountUsd?: string; off?: boolean }) => {
        const settings = autoTopupSettings(options);
        const result = await withServices(globals(), (s) => s.accounts.setAutoTopup(accountId, settings));
        if (!result.ok) throw new UsageError(result.error);
        const { autoTopup } = result.value;
        print(globals().json, accountJson(result.value), () =>
          autoTopup.enabled
            ? `${accountId}: auto top-up of ${formatUsd(autoTopup.amountMicros)} when the balance falls below ${formatUsd(autoTopup.thresholdMicros)}`
            : `${accountId}: auto top-up is off`,
        );
      },
    );

  credits
    .command('topups <accountId>')
    .description('list the top-ups auto top-up has asked for')
    .action(async (accountId: string) => {
      const result = await withServices(globals(), (s) => s.accounts.topupRequests(accountId));
      if (!result.ok) throw new UsageError(result.error);
      const rows = result.value.map((t) => ({
        id: t.id,
        amount_usd: formatUsd(t.amountMicros),
        balance_usd: formatUsd(t.balanceMicros),
        status: t.status,
        created_at: new Date(t.createdAt).toISOString(),
      }));
      print(globals().json, rows, () =>
        rows.length === 0
          ? 'no top-ups asked for'
          : rows
              .map(
                (r) => `${r.id}  ${r.amount_usd}  ${r.status}  balance was ${r.balance_usd}  ${r.created_at}`,
              )
              .join('\n'),
      );
    });
}

function autoTopupSettings(options: { thresholdUsd?: string; amountUsd?: string; off?: boolean }) {
  if (options.off) {
    if (options.thresholdUsd !== undefined || options.amountUsd !== undefined)
      throw new UsageError('--off takes no --threshold-usd or --amount-usd');
    return undefined;
  }
  if (options.thresholdUsd === undefined || options.amountUsd === undefined)
    throw new UsageError('give --threshold-usd and --amount-usd, or --off');
  const thresholdMicros = parseUsd(options.thresholdUsd);
  if (thresholdMicros === undefined || thresholdMicros <= 0)
    throw new UsageError(
      `--threshold-usd: expected a positive amount such as 2.00, got "${options.thresholdUsd}"`,
    );
  const amountMicros = parseUsd(options.amountUsd);
  if (amountMicros === undefined || amountMicros <= 0)
    throw new UsageError(
      `--amount-usd: expected a positive amount such as 25.00, got "${options.amountUsd}"`,
    );
  return { thresholdMicros, amountMicros };
}
