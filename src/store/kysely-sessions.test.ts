import { expect, it } from 'vitest';
import { insertAccount, insertUser } from '../../test/support/store-rows.js';
import { describeStores } from '../../test/support/stores.js';
import { KyselyMembershipStore } from './kysely-memberships.js';
import { KyselySessionStore } from './kysely-sessions.js';

describeStores('the session store', (database) => {
  const sessions = () => new KyselySessionStore(database().db);
  const session = (idHash: string, userId: string, lastSeenAt = 100, expiresAt = 10_000) => ({
    idHash,
    userId,
    createdAt: 100,
    lastSeenAt,
    expiresAt,
  });

  it('finds a session by its hash, and keeps when it was last seen', async () => {
    await insertUser(database().db, 'usr_1');
    await sessions().create(session('s1', 'usr_1'));
    await sessions().touch('s1', 250);
    expect(await sessions().find('s1')).toEqual(session('s1', 'usr_1', 250));
    expect(await sessions().find('s_missing')).toBeUndefined();
    await sessions().delete('s1');
    expect(await sessions().find('s1')).toBeUndefined();
  });

  it('ends a user’s other sessions, and counts them', async () => {
    await insertUser(database().db, 'usr_1');
    await insertUser(database().db, 'usr_2');
    for (const id of ['s1', 's2', 's3']) await sessions().create(session(id, 'usr_1'));
    await sessions().create(session('s4', 'usr_2'));
    expect(await sessions().deleteOfUser('usr_1', 's2')).toBe(2);
    expect(await sessions().find('s2')).toBeDefined();
    expect(await sessions().deleteOfUser('usr_1')).toBe(1);
    expect(await sessions().find('s4')).toBeDefined();
  });

  it('ends the sessions of an account’s members, and no one else’s', async () => {
    await insertAccount(database().db, 'acct_1');
    await insertUser(database().db, 'usr_1');
    await insertUser(database().db, 'usr_2');
    await new KyselyMembershipStore(database().db).add({
      accountId: 'acct_1',
      userId: 'usr_1',
      role: 'owner',
      createdAt: 1,
    });
    await sessions().create(session('s1', 'usr_1'));
    await sessions().create(session('s2', 'usr_2'));
    expect(await sessions().deleteOfAccountMembers('acct_1')).toBe(1);
    expect(await sessions().find('s1')).toBeUndefined();
    expect(await sessions().find('s2')).toBeDefined();
  });

  it('sweeps sessions past their end or idle too long', async () => {
    await insertUser(database().db, 'usr_1');
    await sessions().create(session('ended', 'usr_1', 900, 1_000));
    await sessions().create(session('idle', 'usr_1', 400, 10_000));
    await sessions().create(session('live', 'usr_1', 900, 10_000));
    expect(await sessions().deleteExpired(1_000, 500)).toBe(2);
    expect(await sessions().find('live')).toBeDefined();
  });
});
