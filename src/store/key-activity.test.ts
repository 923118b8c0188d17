import { expect, it } from 'vitest';
import { insertAccount, insertKey } from '../../test/support/store-rows.js';
import { describeStores } from '../../test/support/stores.js';
import { blockListAllowlists } from '../net/ip-allowlist.js';
import { DataVersionWatch } from './data-version-watch.js';
import { KyselyAccountStore } from './kysely-accounts.js';
import { KyselyKeyStore } from './kysely-keys.js';
import { KyselySubscriptionStore } from './kysely-subscriptions.js';
import type { OpenDatabase } from './open-database.js';
import { PostgresKeyActivity } from './postgres-key-activity.js';
import { SqliteKeyActivity } from './sqlite-key-activity.js';

/** The request path's key adapter for the database's kind, as the server wires it. */
function keyActivity(database: OpenDatabase, options: { now?: () => number } = {}) {
  return database.kind === 'sqlite'
    ? new SqliteKeyActivity(database.sqlite, new DataVersionWatch(database.sqlite), blockListAllowlists)
    : new PostgresKeyActivity(database.pg, blockListAllowlists, options);
}

describeStores('the key activity of the request path', (database) => {
  it('finds a key by its hash with its account, spending, allow-list and live subscriptions', async () => {
    const { db } = database();
    await insertAccount(db, 'acct_1');
    await insertKey(db, 'key_a', 'acct_1', {
      spending: { billing: 'subscription', overflow: true, limit: { micros: 5_000_000_000, period: 'week' } },
      ipAllowlist: ['10.0.0.0/8'],
    });
    await new KyselySubscriptionStore(db, database().kind).start({
      id: 'sub_1',
      accountId: 'acct_1',
      kind: 'inference',
      planId: 'starter',
      now: 1_700_000_000_000,
    });
    const activity = keyActivity(database());
    const found = await activity.findCredential('hash_key_a');
    expect(found).toMatchObject({
      keyId: 'key_a',
      accountId: 'acct_1',
      type: 'inference',
      hash: 'hash_key_a',
      revoked: false,
      accountStatus: 'active',
      spending: { billing: 'subscription', overflow: true, limit: { micros: 5_000_000_000, period: 'week' } },
      subscriptions: { inference: { planId: 'starter', startedAt: 1_700_000_000_000 }, chat: undefined },
      validUntil: undefined,
    });
    expect(found?.accountTier).toBeUndefined();
    expect(found?.allowlist?.allows('10.1.2.3')).toBe(true);
    expect(found?.allowlist?.allows('192.0.2.1')).toBe(false);
    expect(await activity.findCredential('hash_unknown')).toBeUndefined();
  });

  it('finds a rotated key by its replaced secret, with the end of its grace', async () => {
    const { db } = database();
    await insertAccount(db, 'acct_1');
    await insertKey(db, 'key_a', 'acct_1');
    await new KyselyKeyStore(db).rotate({
      keyId: 'key_a',
      newHash: 'hash_new',
      hint: 'h',
      now: 10,
      previousValidUntil: 9_000_000_000_000,
    });
    const activity = keyActivity(database());
    expect(await activity.findCredential('hash_key_a')).toMatchObject({
      keyId: 'key_a',
      hash: 'hash_key_a',
      validUntil: 9_000_000_000_000,
    });
    expect(await activity.findCredential('hash_new')).toMatchObject({
      keyId: 'key_a',
      validUntil: undefined,
    });
  });

  it('sees a revocation and a suspension made through the stores once told to forget', async () => {
    const { db } = database();
    await insertAccount(db, 'acct_1');
    await insertKey(db, 'key_a', 'acct_1');
    const activity = keyActivity(database());
    expect(await activity.findCredential('hash_key_a')).toMatchObject({ revoked: false });
    await new KyselyKeyStore(db).revoke('key_a', 50);
    await new KyselyAccountStore(db).setStatus('acct_1', 'suspended');
    activity.forget();
    expect(await activity.findCredential('hash_key_a')).toMatchObject({
      revoked: true,
      accountStatus: 'suspended',
    });
  });

  it("reads the account's own tier with the key, and sees it change once told to forget", async () => {
    const { db } = database();
    await insertAccount(db, 'acct_1');
    await insertKey(db, 'key_a', 'acct_1');
    await new KyselyAccountStore(db).setTier('acct_1', 'pro');
    const activity = keyActivity(database());
    expect(await activity.findCredential('hash_key_a')).toMatchObject({ accountTier: 'pro' });
    await new KyselyAccountStore(db).setTier('acct_1', null);
    activity.forget();
    expect(await activity.findCredential('hash_key_a')).toMatchObject({ accountTier: undefined });
  });

  it('writes each key’s last use and client address', async () => {
    const { db } = database();
    await insertAccount(db, 'acct_1');
    await insertKey(db, 'key_a', 'acct_1');
    await insertKey(db, 'key_b', 'acct_1');
    await keyActivity(database()).recordUses([
      { keyId: 'key_a', at: 1_700_000_000_123, ip: '192.0.2.7' },
      { keyId: 'key_b', at: 1_700_000_000_456, ip: '2001:db8::2' },
    ]);
    const keys = await new KyselyKeyStore(db).listForAccount('acct_1');
    expect(keys.map((k) => [k.id, k.lastUsedAt, k.lastUsedIp])).toEqual([
      ['key_a', 1_700_000_000_123, '192.0.2.7'],
      ['key_b', 1_700_000_000_456, '2001:db8::2'],
    ]);
  });

  it('sees a change made elsewhere within a second even if no one tells it to forget', async (context) => {
    if (database().kind !== 'postgres') context.skip('SQLite learns of other processes through data_version');
    const { db } = database();
    await insertAccount(db, 'acct_1');
    await insertKey(db, 'key_a', 'acct_1');
    let now = 0;
    const activity = keyActivity(database(), { now: () => now });
    expect(await activity.findCredential('hash_key_a')).toMatchObject({ revoked: false });
    await new KyselyKeyStore(db).revoke('key_a', 50);
    now = 999;
    expect(await activity.findCredential('hash_key_a')).toMatchObject({ revoked: false });
    now = 1_000;
    expect(await activity.findCredential('hash_key_a')).toMatchObject({ revoked: true });
  });

  it('never moves a last use backwards when instances write their batches out of order', async (context) => {
    if (database().kind !== 'postgres') context.skip('one SQLite server writes its batches in order');
    const { db } = database();
    await insertAccount(db, 'acct_1');
    await insertKey(db, 'key_a', 'acct_1');
    await keyActivity(database()).recordUses([{ keyId: 'key_a', at: 2_000, ip: '192.0.2.2' }]);
    await keyActivity(database()).recordUses([{ keyId: 'key_a', at: 1_000, ip: '192.0.2.1' }]);
    const key = await new KyselyKeyStore(db).find('key_a');
    expect([key?.lastUsedAt, key?.lastUsedIp]).toEqual([2_000, '192.0.2.2']);
  });
});
