import type { Command } from 'commander';
import { formatUsd } from '../domain/money.js';
import type { PlanKind } from '../domain/plans.js';
import type { Balances } from '../services/billing/balances.js';
import { type GlobalOptions, withServices } from './context.js';
import { formatTime, print, UsageError } from './output.js';
import { describePlan, planJson } from './plan-text.js';

const KINDS: Record<string, PlanKind[]> = {
  inference: ['inference'],
  chat: ['chat'],
  all: ['inference', 'chat'],
};

function balancesJson(accountId: string, balances: Balances, since: { inference?: number; chat?: number }) {
  const { subscription, agentQuota } = balances;
  return {
    account_id: accountId,
    inference: subscription
      ? {
          plan: subscription.planId,
          started_at: formatTime(since.inference ?? null),
          budget_usd: formatUsd(subscription.budget),
          remaining_usd: formatUsd(subscription.remaining),
          resets_at: formatTime(subscription.resetsAt),
        }
      : null,
    chat: agentQuota
      ? {
          plan: agentQuota.planId,
          started_at: formatTime(since.chat ?? null),
          resets_at: agentQuota.resetsAt === undefined ? null : formatTime(agentQuota.resetsAt),
          windows: agentQuota.windows.map((w) => ({
            window_hours: w.limit.windowMs / 3_600_000,
            requests_used: w.requestsUsed,
            requests_limit: w.limit.requests ?? null,
            usd_used: formatUsd(w.usdUsed),
            usd_limit: w.limit.usd === undefined ? null : formatUsd(w.limit.usd),
          })),
        }
      : null,
  };
}

export function registerPlanCommands(program: Command, globals: () => GlobalOptions): void {
  program
    .command('plans')
    .description('list the plans the configuration defines')
    .action(async () => {
      const plans = await withServices(globals(), async (s) => s.plans.plans);
      print(globals().json, plans.map(planJson), () =>
        plans.length === 0
          ? 'no plans (declare them under plans: in the configuration)'
          : plans.map(describePlan).join('\n'),
      );
    });

  const subscriptions = program.command('subscriptions').description("an account's subscriptions");

  subscriptions
    .command('set <accountId>')
    .description('subscribe an account to a plan, starting now (replaces its subscription of the same kind)')
    .requiredOption('--plan <planId>', 'a plan id from `tollgate plans`')
    .action(async (accountId: string, options: { plan: string }) => {
      const result = await withServices(globals(), (s) => s.subscriptions.set(accountId, options.plan));
      if (!result.ok) throw new UsageError(result.error);
      print(
        globals().json,
        { account_id: accountId, plan: planJson(result.value) },
        () => `${accountId} is now subscribed to ${describePlan(result.value)}`,
      );
    });

  subscriptions
    .command('cancel <accountId>')
    .description("end an account's subscriptions now")
    .option('--kind <kind>', 'inference, chat or all', 'all')
    .action(async (accountId: string, options: { kind: string }) => {
      const kinds = KINDS[options.kind];
      if (!kinds) throw new UsageError(`--kind: expected inference, chat or all, got "${options.kind}"`);
      const result = await withServices(globals(), (s) => s.subscriptions.cancel(accountId, kinds));
      if (!result.ok) throw new UsageError(result.error);
      print(globals().json, { account_id: accountId, canceled: result.value }, () =>
        result.value === 0
          ? `${accountId} had no subscription to cancel`
          : `canceled ${result.value} subscription(s) of ${accountId}`,
      );
    });

  subscriptions
    .command('show <accountId>')
    .description("show an account's subscriptions, the budget left this period and the agent quota used")
    .action(async (accountId: string) => {
      const shown = await withServices(globals(), async (s) => {
        const live = await s.subscriptions.live(accountId);
        if (!live.ok) throw new UsageError(live.error);
        const balances = await s.balances.of(accountId, live.value);
        return balancesJson(accountId, balances, {
          ...(live.value.inference ? { inference: live.value.inference.startedAt } : {}),
          ...(live.value.chat ? { chat: live.value.chat.startedAt } : {}),
        });
      });
      print(globals().json, shown, () => {
        const lines = [`${accountId}`];
        const { inference, chat } = shown;
        lines.push(
          inference
            ? `inference: ${inference.plan} since ${inference.started_at}; ${inference.remaining_usd} of ${inference.budget_usd} left until ${inference.resets_at}`
            : 'inference: no subscription',
        );
        const windows = (chat?.windows ?? [])
          .map(
            (w) =>
              `last ${w.window_hours} h: ${w.requests_used}${w.requests_limit === null ? '' : ` of ${w.requests_limit}`} requests, ${w.usd_used}${w.usd_limit === null ? '' : ` of ${w.usd_limit}`}`,
          )
          .join('; ');
        lines.push(
          chat ? `chat: ${chat.plan} since ${chat.started_at}; ${windows}` : 'chat: no Pro chat plan',
        );
        return lines.join('\n');
      });
    });
}
