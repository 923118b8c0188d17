import { expect, it } from 'vitest';
import { insertAccount } from '../../test/support/store-rows.js';
import { describeStores } from '../../test/support/stores.js';
import { KyselySubscriptionStore } from './kysely-subscriptions.js';

describeStores('the subscription store', (database) => {
  const subscriptions = () => new KyselySubscriptionStore(database().db, database().kind);

  it('keeps one live subscription of each kind, a new one ending the last', async () => {
    await insertAccount(database().db, 'acct_1');
    await subscriptions().start({
      id: 'sub_1',
      accountId: 'acct_1',
      kind: 'inference',
      planId: 'starter',
      now: 10,
    });
    await subscriptions().start({
      id: 'sub_2',
      accountId: 'acct_1',
      kind: 'chat',
      planId: 'chat-pro',
      now: 20,
    });
    await subscriptions().start({
      id: 'sub_3',
      accountId: 'acct_1',
      kind: 'inference',
      planId: 'pro',
      now: 30,
    });
    expect(await subscriptions().live('acct_1')).toEqual({
      inference: { planId: 'pro', startedAt: 30 },
      chat: { planId: 'chat-pro', startedAt: 20 },
    });
    const ended = await database()
      .db.selectFrom('subscriptions')
      .select('canceled_at')
      .where('id', '=', 'sub_1')
      .executeTakeFirst();
    expect(ended?.canceled_at).toBe(30);
  });

  it('cancels the kinds asked for, and counts what it ended', async () => {
    await insertAccount(database().db, 'acct_1');
    await subscriptions().start({
      id: 'sub_1',
      accountId: 'acct_1',
      kind: 'inference',
      planId: 'starter',
      now: 10,
    });
    await subscriptions().start({
      id: 'sub_2',
      accountId: 'acct_1',
      kind: 'chat',
      planId: 'chat-pro',
      now: 20,
    });
    expect(await subscriptions().cancel('acct_1', [], 40)).toBe(0);
    expect(await subscriptions().cancel('acct_1', ['inference', 'chat'], 40)).toBe(2);
    expect(await subscriptions().cancel('acct_1', ['inference'], 50)).toBe(0);
    expect(await subscriptions().live('acct_1')).toEqual({ inference: undefined, chat: undefined });
  });

  it('starts of the same kind at the same moment all succeed, and exactly one of them is live', async () => {
    await insertAccount(database().db, 'acct_1');
    const plans = ['starter', 'pro', 'team', 'max', 'starter', 'pro'];
    // Each start on its own store, as separate requests (or the CLI and a server) would make them.
    await Promise.all(
      plans.map((planId, i) =>
        subscriptions().start({ id: `sub_${i}`, accountId: 'acct_1', kind: 'inference', planId, now: 10 }),
      ),
    );
    const rows = await database()
      .db.selectFrom('subscriptions')
      .select(['id', 'plan_id', 'canceled_at'])
      .where('account_id', '=', 'acct_1')
      .execute();
    expect(rows).toHaveLength(plans.length);
    const live = rows.filter((row) => row.canceled_at === null);
    expect(live).toHaveLength(1);
    expect((await subscriptions().live('acct_1')).inference).toEqual({
      planId: live[0]?.plan_id,
      startedAt: 10,
    });
  });
});
