import { expect, it } from 'vitest';
import { insertAccount, insertKey } from '../../test/support/store-rows.js';
import { describeStores } from '../../test/support/stores.js';
import { KyselyKeySpend, KyselyKeyStore } from './kysely-keys.js';

describeStores('the key store', (database) => {
  const store = () => new KyselyKeyStore(database().db);

  it('lists an account’s keys oldest first, with every setting as written', async () => {
    await insertAccount(database().db, 'acct_1');
    await insertAccount(database().db, 'acct_2');
    const second = await insertKey(database().db, 'key_b', 'acct_1', {
      createdAt: 3_000,
      type: 'chat_agent',
      spending: {
        billing: 'subscription',
        overflow: true,
        limit: { micros: 7_000_000_000, period: 'month' },
      },
      ipAllowlist: ['10.0.0.0/8', '2001:db8::1'],
      createdBy: 'usr_1',
    });
    const first = await insertKey(database().db, 'key_a', 'acct_1');
    await insertKey(database().db, 'key_c', 'acct_2');
    expect(await store().listForAccount('acct_1')).toEqual([first, second]);
    expect(await store().find('key_b')).toEqual(second);
    expect(await store().find('key_missing')).toBeUndefined();
  });

  it('changes spending, name and allow-list, and lifts the allow-list with an empty one', async () => {
    await insertAccount(database().db, 'acct_1');
    await insertKey(database().db, 'key_a', 'acct_1', { ipAllowlist: ['192.0.2.1'] });
    const spending = { billing: 'prepaid', overflow: false, limit: { micros: 10, period: 'day' } } as const;
    expect(await store().updateSpending('key_a', spending)).toBe(true);
    expect(await store().updateDetails('key_a', { name: 'renamed' })).toBe(true);
    let found = await store().find('key_a');
    expect([found?.spending, found?.name, found?.ipAllowlist]).toEqual([spending, 'renamed', ['192.0.2.1']]);
    expect(await store().updateDetails('key_a', { ipAllowlist: [] })).toBe(true);
    found = await store().find('key_a');
    expect(found?.ipAllowlist).toEqual([]);
    expect(await store().updateSpending('key_missing', spending)).toBe(false);
    expect(await store().updateDetails('key_missing', { name: 'x' })).toBe(false);
  });

  it('rotates a live key, keeping the replaced secret until its grace ends', async () => {
    await insertAccount(database().db, 'acct_1');
    await insertKey(database().db, 'key_a', 'acct_1');
    const rotation = { keyId: 'key_a', newHash: 'hash_new', hint: 'llmbase_…NEW1', now: 9_000 };
    expect(await store().rotate({ ...rotation, previousValidUntil: 19_000 })).toBe(true);
    const found = await store().find('key_a');
    expect([found?.hint, found?.rotatedAt, found?.previousValidUntil]).toEqual([
      'llmbase_…NEW1',
      9_000,
      19_000,
    ]);
    const previous = await database()
      .db.selectFrom('api_key_previous_hashes')
      .selectAll()
      .where('key_id', '=', 'key_a')
      .execute();
    expect(previous).toEqual([{ hash: 'hash_key_a', key_id: 'key_a', valid_until: 19_000 }]);
    // A second rotation keeps both replaced secrets; the list shows the latest grace.
    expect(
      await store().rotate({ ...rotation, newHash: 'hash_newer', now: 10_000, previousValidUntil: 25_000 }),
    ).toBe(true);
    expect((await store().find('key_a'))?.previousValidUntil).toBe(25_000);
  });

  it('refuses to rotate a revoked or unknown key', async () => {
    await insertAccount(database().db, 'acct_1');
    await insertKey(database().db, 'key_a', 'acct_1');
    await store().revoke('key_a', 5_000);
    const rotation = { newHash: 'h2', hint: 'x', now: 9_000, previousValidUntil: 1 };
    expect(await store().rotate({ keyId: 'key_a', ...rotation })).toBe(false);
    expect(await store().rotate({ keyId: 'key_missing', ...rotation })).toBe(false);
  });

  it('applies two simultaneous rotations of a key one after the other, keeping both replaced secrets', async () => {
    await insertAccount(database().db, 'acct_1');
    await insertKey(database().db, 'key_a', 'acct_1');
    const rotation = (newHash: string) =>
      store().rotate({ keyId: 'key_a', newHash, hint: newHash, now: 9_000, previousValidUntil: 19_000 });
    expect(await Promise.all([rotation('hash_one'), rotation('hash_two')])).toEqual([true, true]);
    const current = await database()
      .db.selectFrom('api_keys')
      .select('hash')
      .where('id', '=', 'key_a')
      .executeTakeFirstOrThrow();
    const previous = await database().db.selectFrom('api_key_previous_hashes').select('hash').execute();
    // The first secret, and whichever new one the later rotation replaced.
    expect(previous.map((p) => p.hash).sort()).toEqual(
      ['hash_key_a', current.hash === 'hash_one' ? 'hash_two' : 'hash_one'].sort(),
    );
  });

  it('revokes once, and tells a second revocation from an unknown key', async () => {
    await insertAccount(database().db, 'acct_1');
    await insertKey(database().db, 'key_a', 'acct_1');
    expect(await store().revoke('key_a', 5_000)).toBe('revoked');
    expect(await store().revoke('key_a', 6_000)).toBe('already-revoked');
    expect(await store().revoke('key_missing', 6_000)).toBe('not-found');
    expect((await store().find('key_a'))?.revokedAt).toBe(5_000);
  });
});

describeStores('a key’s spend', (database) => {
  it('sums what its requests held in the window were charged, every pool together', async () => {
    await insertAccount(database().db, 'acct_1');
    const entry = (id: string, kind: string, amount: number, periodAt: number, keyId = 'key_a') => ({
      id,
      account_id: 'acct_1',
      kind,
      amount_micros: amount,
      hold_id: null,
      note: null,
      created_at: periodAt,
      pool: 'prepaid',
      key_id: keyId,
      period_at: periodAt,
    });
    await database()
      .db.insertInto('ledger_entries')
      .values([
        entry('led_1', 'settle', -3_000_000_000, 100),
        { ...entry('led_2', 'settle', -500, 150), pool: 'subscription' },
        entry('led_3', 'hold', -9_999, 150),
        entry('led_4', 'settle', -700, 200),
        entry('led_5', 'settle', -800, 120, 'key_b'),
      ])
      .execute();
    const spend = new KyselyKeySpend(database().db);
    expect(await spend.spent('acct_1', 'key_a', 100, 200)).toBe(3_000_000_500);
    expect(await spend.spent('acct_1', 'key_a', 300, 400)).toBe(0);
  });
});
