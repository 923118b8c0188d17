import type { Command } from 'commander';
import { formatUsd } from '../domain/money.js';
import { type UsageGrouping, usageReport } from '../services/usage-report.js';
import { KyselyUsageReader } from '../store/kysely-usage.js';
import { type GlobalOptions, withServices } from './context.js';
import { print, UsageError } from './output.js';

const GROUPINGS = new Set(['model', 'key', 'day']);

export function registerUsageCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('usage <accountId>')
    .description("summarise an account's requests: tokens and cost, by model, key or day")
    .option('--since <date>', 'only requests from this date on (YYYY-MM-DD or an ISO time)')
    .option('--by <grouping>', 'model, key or day', 'model')
    .action(async (accountId: string, options: { since?: string; by: string }) => {
      if (!GROUPINGS.has(options.by))
        throw new UsageError(`--by: expected model, key or day, got "${options.by}"`);
      const since = options.since === undefined ? 0 : Date.parse(options.since);
      if (Number.isNaN(since))
        throw new UsageError(`--since: expected a date such as 2026-11-01, got "${options.since}"`);
      const lines = await withServices(globals(), async (s) => {
        if (!(await s.accounts.find(accountId))) throw new UsageError(`no account with id ${accountId}`);
        return usageReport(new KyselyUsageReader(s.db), accountId, since, options.by as UsageGrouping);
      });
      print(
        globals().json,
        lines.map((l) => ({
          [options.by]: l.group,
          requests: l.requests,
          failed: l.failed,
          over_hold: l.overHold,
          prompt_tokens: l.promptTokens,
          completion_tokens: l.completionTokens,
          cost_micros: l.costMicros,
          cost_usd: formatUsd(l.costMicros),
          pools_micros: l.pools,
        })),
        () =>
          lines.length === 0
            ? 'no usage'
            : [
                `${options.by.padEnd(32)} requests  failed  over hold  prompt tokens  completion tokens  cost  (by pool)`,
                ...lines.map(
                  (l) =>
                    `${l.group.padEnd(32)} ${String(l.requests).padStart(8)}  ${String(l.failed).padStart(6)}  ${String(l.overHold).padStart(9)}  ${String(l.promptTokens).padStart(13)}  ${String(l.completionTokens).padStart(17)}  ${formatUsd(l.costMicros)}  (${Object.entries(
                      l.pools,
                    )
                      .map(([pool, micros]) => `${pool} ${formatUsd(micros)}`)
                      .join(', ')})`,
                ),
              ].join('\n'),
      );
    });
}
