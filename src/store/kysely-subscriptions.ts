import type { Kysely } from 'kysely';
import type { AccountSubscriptions, PlanKind } from '../domain/plans.js';
import type { SubscriptionStore } from '../ports/subscriptions.js';
import type { DatabaseKind } from './database-kind.js';
import type { Database } from './tables.js';

export class KyselySubscriptionStore implements SubscriptionStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly kind: DatabaseKind,
  ) {}

  async live(accountId: string): Promise<AccountSubscriptions> {
    const rows = await this.db
      .selectFrom('subscriptions')
      .select(['kind', 'plan_id', 'started_at'])
      .where('account_id', '=', accountId)
      .where('canceled_at', 'is', null)
      .execute();
    const of = (kind: PlanKind) => {
      const row = rows.find((r) => r.kind === kind);
      return row ? { planId: row.plan_id, startedAt: Number(row.started_at) } : undefined;
    };
    return { inference: of('inference'), chat: of('chat') };
  }

  async start(input: { id: string; accountId: string; kind: PlanKind; planId: string; now: number }) {
    await this.db.transaction().execute(async (tx) => {
      // Two starts for one account at once, on PostgreSQL, would both find no live subscription to
      // end (or the same one), and the second insert would break the unique index on live ones.
      // The account's row lock queues them, as SQLite's single writer does: each ends the one
      // before it, and the last to start is live. Under READ COMMITTED the statements after the
      // lock see what the previous holder committed.
      if (this.kind === 'postgres')
        await tx.selectFrom('accounts').select('id').where('id', '=', input.accountId).forUpdate().execute();
      await tx
        .updateTable('subscriptions')
        .set({ canceled_at: input.now })
        .where('account_id', '=', input.accountId)
        .where('kind', '=', input.kind)
        .where('canceled_at', 'is', null)
        .execute();
      await tx
        .insertInto('subscriptions')
        .values({
          id: input.id,
          account_id: input.accountId,
          kind: input.kind,
          plan_id: input.planId,
          started_at: input.now,
          canceled_at: null,
        })
        .execute();
    });
  }

  async cancel(accountId: string, kinds: readonly PlanKind[], now: number): Promise<number> {
    if (kinds.length === 0) return 0;
    const result = await this.db
      .updateTable('subscriptions')
      .set({ canceled_at: now })
      .where('account_id', '=', accountId)
      .where('kind', 'in', kinds)
      .where('canceled_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }
}
