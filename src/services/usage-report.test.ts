import { describe, expect, it } from 'vitest';
import type { UsageRow } from '../ports/usage.js';
import { usageReport } from './usage-report.js';

function row(model: string, costMicros: number, overHold: boolean): UsageRow {
  return {
    keyId: 'key_a',
    model,
    promptTokens: 10,
    completionTokens: 5,
    costMicros,
    pools: { prepaid: costMicros },
    status: 200,
    createdAt: Date.parse('2026-03-10T12:00:00Z'),
    overHold,
  };
}

describe('usageReport', () => {
  it('counts the requests charged above their hold, so that a mispriced model stands out', async () => {
    const rows = [row('cheap', 100, false), row('mispriced', 90_000, true), row('mispriced', 80_000, true)];
    const lines = await usageReport({ forAccount: async () => rows }, 'acct', 0, 'model');
    expect(lines.map((l) => [l.group, l.requests, l.overHold, l.costMicros])).toEqual([
      ['cheap', 1, 0, 100],
      ['mispriced', 2, 2, 170_000],
    ]);
  });
});
