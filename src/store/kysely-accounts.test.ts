import { expect, it } from 'vitest';
import { describeStores } from '../../test/support/stores.js';
import { KyselyAccountStore } from './kysely-accounts.js';

describeStores('the account store', (database) => {
  const store = () => new KyselyAccountStore(database().db);

  it('creates an account once per email, active with nothing available', async () => {
    const created = await store().create({ id: 'acct_1', email: 'a@example.com', now: 5 });
    expect(created).toEqual({
      id: 'acct_1',
      email: 'a@example.com',
      status: 'active',
      availableMicros: 0,
      autoTopup: { enabled: false, thresholdMicros: 0, amountMicros: 0 },
      createdAt: 5,
      tier: null,
    });
    expect(await store().create({ id: 'acct_2', email: 'a@example.com', now: 6 })).toBeUndefined();
    expect(await store().find('acct_1')).toEqual(created);
    expect(await store().find('acct_2')).toBeUndefined();
  });

  it('suspends and reactivates, and says when there is no such account', async () => {
    await store().create({ id: 'acct_1', email: 'a@example.com', now: 5 });
    expect(await store().setStatus('acct_1', 'suspended')).toBe(true);
    expect((await store().find('acct_1'))?.status).toBe('suspended');
    expect(await store().setStatus('acct_1', 'active')).toBe(true);
    expect((await store().find('acct_1'))?.status).toBe('active');
    expect(await store().setStatus('acct_missing', 'suspended')).toBe(false);
  });

  it('gives an account a tier of its own and takes it away, and says when there is no such account', async () => {
    await store().create({ id: 'acct_1', email: 'a@example.com', now: 5 });
    expect(await store().setTier('acct_1', 'pro')).toBe(true);
    expect((await store().find('acct_1'))?.tier).toBe('pro');
    expect(await store().setTier('acct_1', null)).toBe(true);
    expect((await store().find('acct_1'))?.tier).toBeNull();
    expect(await store().setTier('acct_missing', 'pro')).toBe(false);
  });

  it('keeps auto top-up settings in micro-USD beyond 32 bits', async () => {
    await store().create({ id: 'acct_1', email: 'a@example.com', now: 5 });
    const settings = { enabled: true, thresholdMicros: 5_000_000_000, amountMicros: 900_000_000_000 };
    expect(await store().setAutoTopup('acct_1', settings)).toBe(true);
    expect((await store().find('acct_1'))?.autoTopup).toEqual(settings);
    expect(await store().setAutoTopup('acct_missing', settings)).toBe(false);
  });

  it('lists an account’s top-up requests oldest first', async () => {
    await store().create({ id: 'acct_1', email: 'a@example.com', now: 5 });
    const row = (id: string, createdAt: number, status = 'completed') => ({
      id,
      account_id: 'acct_1',
      amount_micros: 1_000_000,
      balance_micros: -20,
      status,
      created_at: createdAt,
    });
    await database()
      .db.insertInto('topup_requests')
      .values([row('top_b', 20), row('top_a', 10, 'pending'), row('top_c', 20)])
      .execute();
    const listed = await store().topupRequests('acct_1');
    expect(listed.map((r) => r.id)).toEqual(['top_a', 'top_b', 'top_c']);
    expect(listed[0]).toEqual({
      id: 'top_a',
      accountId: 'acct_1',
      amountMicros: 1_000_000,
      balanceMicros: -20,
      status: 'pending',
      createdAt: 10,
    });
  });
});
