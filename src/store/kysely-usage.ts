import type { Kysely } from 'kysely';
import type { UsageReader, UsageRow } from '../ports/usage.js';
import type { Database } from './tables.js';

export class KyselyUsageReader implements UsageReader {
  constructor(private readonly db: Kysely<Database>) {}

  async forAccount(accountId: string, since: number): Promise<UsageRow[]> {
    const rows = await this.db
      .selectFrom('usage_records')
      .select([
        'key_id',
        'model',
        'prompt_tokens',
        'completion_tokens',
        'cost_micros',
        'pools',
        'status',
        'created_at',
        'over_hold',
      ])
      .where('account_id', '=', accountId)
      .where('created_at', '>=', since)
      .orderBy('created_at')
      .execute();
    return rows.map((r) => ({
      keyId: r.key_id,
      model: r.model,
      promptTokens: Number(r.prompt_tokens),
      completionTokens: Number(r.completion_tokens),
      costMicros: Number(r.cost_micros),
      pools: JSON.parse(r.pools) as UsageRow['pools'],
      status: Number(r.status),
      createdAt: Number(r.created_at),
      overHold: Number(r.over_hold) === 1,
    }));
  }
}
