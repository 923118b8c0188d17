import pg from 'pg';
import type { BankOutcome } from './bank-client.js';
import type { ChatBody, SentUsage } from './fake-openai-upstream.js';
import { expectedCharge } from './harness.js';

/** One account of the bank test as the client saw it. */
export interface BankAccount {
  readonly accountId: string;
  readonly key: string;
  /** Every credit given, initial one included, in micro-USD. */
  credits: number;
  readonly outcomes: { readonly tag: string; readonly outcome: BankOutcome }[];
}

export interface AccountAudit {
  readonly accountId: string;
  readonly answered: number;
  readonly refused: number;
  readonly indeterminate: number;
  /** Indeterminate requests that were charged (the answer was committed, then the instance died). */
  readonly chargedUnanswered: number;
  readonly problems: string[];
}

interface UsageRow {
  request_id: string;
  cost_micros: string;
  over_hold: number;
}

/**
 * Checks one account against what the upstream reported and the client saw:
 * - its balance is its credits minus what the upstream reported for its answered requests, minus
 *   what it reported for indeterminate requests that were charged (a crash between COMMIT and the
 *   answer: each must be one the upstream did answer);
 * - every answered request has its usage record (none lost), no refused request has one, and none is
 *   written twice (the primary key, and reconcile());
 * - no pool passed its cap: the balance is not negative, and no settlement went above its hold.
 */
export async function auditAccount(
  databaseUrl: string,
  account: BankAccount,
  reported: ReadonlyMap<string, { readonly usage: SentUsage; readonly body: ChatBody }>,
): Promise<AccountAudit> {
  const problems: string[] = [];
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  let balance: number;
  let usage: UsageRow[];
  try {
    const found = await client.query('SELECT available_micros::text AS b FROM accounts WHERE id = $1', [
      account.accountId,
    ]);
    balance = Number(found.rows[0]?.b);
    usage = (
      await client.query(
        'SELECT request_id, cost_micros::text AS cost_micros, over_hold FROM usage_records WHERE account_id = $1',
        [account.accountId],
      )
    ).rows as UsageRow[];
  } finally {
    await client.end();
  }
  const records = new Map(usage.map((row) => [row.request_id, row]));
  const reportedByTag = new Map<string, SentUsage>();
  for (const { usage: sent, body } of reported.values()) {
    const tag = String(body.messages[0]?.content ?? '').split(' ')[1];
    if (tag) reportedByTag.set(tag, sent);
  }

  let answeredCost = 0;
  const answeredIds = new Set<string>();
  const indeterminateCosts = new Set<number>();
  let answered = 0;
  let refused = 0;
  let indeterminate = 0;
  for (const { tag, outcome } of account.outcomes) {
    if (outcome.kind === 'answered') {
      answered++;
      answeredIds.add(outcome.requestId);
      const sent = reported.get(outcome.answerId)?.usage;
      if (!sent) problems.push(`answer ${outcome.answerId} (${tag}) was never reported by the upstream`);
      else answeredCost += expectedCharge([sent]);
      if (!records.has(outcome.requestId)) problems.push(`answered ${outcome.requestId}: usage record lost`);
    } else if (outcome.kind === 'refused') {
      refused++;
      if (records.has(outcome.requestId))
        problems.push(`refused ${outcome.requestId} (${outcome.status}) has a usage record`);
    } else {
      indeterminate++;
      const sent = reportedByTag.get(tag);
      if (sent) indeterminateCosts.add(expectedCharge([sent]));
    }
  }
  const extra = usage.filter((row) => !answeredIds.has(row.request_id));
  let extraCost = 0;
  for (const row of extra) {
    const cost = Number(row.cost_micros);
    extraCost += cost;
    if (!indeterminateCosts.has(cost))
      problems.push(
        `usage record ${row.request_id} (${cost}) matches no request the client could not see end`,
      );
  }
  if (extra.length > indeterminate)
    problems.push(`${extra.length} charged requests not answered, only ${indeterminate} indeterminate`);
  const expected = account.credits - answeredCost - extraCost;
  if (balance !== expected)
    problems.push(
      `balance ${balance}, expected ${expected} (credits ${account.credits} − answered ${answeredCost} − charged unanswered ${extraCost})`,
    );
  if (balance < 0) problems.push(`balance ${balance} is below zero`);
  for (const row of usage)
    if (row.over_hold) problems.push(`usage record ${row.request_id} settled above its hold`);
  return {
    accountId: account.accountId,
    answered,
    refused,
    indeterminate,
    chargedUnanswered: extra.length,
    problems,
  };
}
