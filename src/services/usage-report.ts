import type { Micros } from '../domain/money.js';
import type { Pool } from '../domain/waterfall.js';
import type { UsageReader, UsageRow } from '../ports/usage.js';

export type UsageGrouping = 'model' | 'key' | 'day';

export interface UsageLine {
  readonly group: string;
  readonly requests: number;
  readonly failed: number;
  /** Requests charged more than their hold: a mispriced model or a provider over-reporting. */
  readonly overHold: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly costMicros: Micros;
  readonly pools: Partial<Record<Pool, Micros>>;
}

const GROUP_OF: Record<UsageGrouping, (row: UsageRow) => string> = {
  model: (row) => row.model,
  key: (row) => row.keyId,
  // Days in UTC, so that a report reads the same wherever the operator runs it.
  day: (row) => new Date(row.createdAt).toISOString().slice(0, 10),
};

/** Sums an account's usage records by model, key or day. */
export async function usageReport(
  reader: UsageReader,
  accountId: string,
  since: number,
  by: UsageGrouping,
): Promise<UsageLine[]> {
  const lines = new Map<
    string,
    {
      requests: number;
      failed: number;
      overHold: number;
      promptTokens: number;
      completionTokens: number;
      costMicros: number;
      pools: Partial<Record<Pool, Micros>>;
    }
  >();
  for (const row of await reader.forAccount(accountId, since)) {
    const group = GROUP_OF[by](row);
    const line = lines.get(group) ?? {
      requests: 0,
      failed: 0,
      overHold: 0,
      promptTokens: 0,
      completionTokens: 0,
      costMicros: 0,
      pools: {},
    };
    line.requests++;
    if (row.status >= 400 || row.status === 0) line.failed++;
    if (row.overHold) line.overHold++;
    line.promptTokens += row.promptTokens;
    line.completionTokens += row.completionTokens;
    line.costMicros += row.costMicros;
    for (const [pool, micros] of Object.entries(row.pools) as [Pool, Micros][]) {
      line.pools[pool] = (line.pools[pool] ?? 0) + micros;
    }
    lines.set(group, line);
  }
  return [...lines]
    .map(([group, line]) => ({ group, ...line }))
    .sort((a, b) => a.group.localeCompare(b.group));
}
