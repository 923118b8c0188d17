import { expect, it } from 'vitest';
import { describeStores } from '../../test/support/stores.js';
import { usageReport } from '../services/usage-report.js';
import { KyselyUsageReader } from './kysely-usage.js';

describeStores('the usage records', (database) => {
  const record = (requestId: string, createdAt: number, changes: Record<string, unknown> = {}) => ({
    request_id: requestId,
    account_id: 'acct_1',
    key_id: 'key_a',
    base_path: '/v1',
    model: 'gpt-4o-mini',
    provider_id: 'openai',
    upstream_model: 'gpt-4o-mini-2024-07-18',
    prompt_tokens: 100,
    completion_tokens: 20,
    usage_source: 'upstream',
    cost_micros: 3_000,
    status: 200,
    latency_ms: 80,
    client_ip: '127.0.0.1',
    user_agent: 'test',
    created_at: createdAt,
    pools: JSON.stringify({ subscription: 1_000, prepaid: 2_000 }),
    cache_read_tokens: 0,
    cache_write_tokens: 0,
    over_hold: 0,
    outcome: 'completed',
    ...changes,
  });

  it('are read for an account since a time, oldest first, and sum into a report', async () => {
    const day = Date.parse('2026-03-10T00:00:00Z');
    await database()
      .db.insertInto('usage_records')
      .values([
        record('req_2', day + 2_000, { key_id: 'key_b', over_hold: 1, cost_micros: 5_000_000_000 }),
        record('req_1', day + 1_000),
        record('req_old', day - 1),
        record('req_other', day + 3_000, { account_id: 'acct_2' }),
        record('req_failed', day + 4_000, { status: 502, cost_micros: 0, pools: '{}', outcome: 'failed' }),
      ])
      .execute();
    const reader = new KyselyUsageReader(database().db);
    const rows = await reader.forAccount('acct_1', day);
    expect(rows.map((row) => row.createdAt - day)).toEqual([1_000, 2_000, 4_000]);
    expect(rows[1]).toEqual({
      keyId: 'key_b',
      model: 'gpt-4o-mini',
      promptTokens: 100,
      completionTokens: 20,
      costMicros: 5_000_000_000,
      pools: { subscription: 1_000, prepaid: 2_000 },
      status: 200,
      createdAt: day + 2_000,
      overHold: true,
    });
    expect(await usageReport(reader, 'acct_1', day, 'key')).toEqual([
      {
        group: 'key_a',
        requests: 2,
        failed: 1,
        overHold: 0,
        promptTokens: 200,
        completionTokens: 40,
        costMicros: 3_000,
        pools: { subscription: 1_000, prepaid: 2_000 },
      },
      {
        group: 'key_b',
        requests: 1,
        failed: 0,
        overHold: 1,
        promptTokens: 100,
        completionTokens: 20,
        costMicros: 5_000_000_000,
        pools: { subscription: 1_000, prepaid: 2_000 },
      },
    ]);
  });
});
