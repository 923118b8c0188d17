import { expect, it } from 'vitest';
import { insertAccount } from '../../test/support/store-rows.js';
import { describeStores } from '../../test/support/stores.js';
import { KyselySubscriptionStore } from './kysely-subscriptions.js';

describeStores('the subscription store', (database) => {
  const subscriptions = () => new KyselySubscriptionStore(database().db);

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
});
