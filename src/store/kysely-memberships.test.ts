import { expect, it } from 'vitest';
import { insertAccount, insertUser } from '../../test/support/store-rows.js';
import { describeStores } from '../../test/support/stores.js';
import { KyselyAccountStore } from './kysely-accounts.js';
import { KyselyInviteStore, KyselyMembershipStore } from './kysely-memberships.js';

describeStores('the membership store', (database) => {
  const members = () => new KyselyMembershipStore(database().db);

  it('adds a user to an account once, with a role', async () => {
    await insertAccount(database().db, 'acct_1');
    await insertUser(database().db, 'usr_1');
    const membership = { accountId: 'acct_1', userId: 'usr_1', role: 'admin', createdAt: 10 } as const;
    expect(await members().add(membership)).toBe(true);
    expect(await members().add({ ...membership, role: 'owner' })).toBe(false);
    expect(await members().find('acct_1', 'usr_1')).toEqual(membership);
    expect(await members().find('acct_1', 'usr_2')).toBeUndefined();
  });

  it('lists a user’s accounts with their email and status, and an account’s members with theirs', async () => {
    await insertAccount(database().db, 'acct_1', 'billing@one.example');
    await insertAccount(database().db, 'acct_2', 'billing@two.example');
    await new KyselyAccountStore(database().db).setStatus('acct_2', 'suspended');
    await insertUser(database().db, 'usr_b', 'bob@example.com');
    await insertUser(database().db, 'usr_a', 'ada@example.com');
    await members().add({ accountId: 'acct_2', userId: 'usr_a', role: 'viewer', createdAt: 20 });
    await members().add({ accountId: 'acct_1', userId: 'usr_a', role: 'owner', createdAt: 10 });
    await members().add({ accountId: 'acct_1', userId: 'usr_b', role: 'developer', createdAt: 10 });
    expect(await members().ofUser('usr_a')).toEqual([
      {
        accountId: 'acct_1',
        userId: 'usr_a',
        role: 'owner',
        createdAt: 10,
        accountEmail: 'billing@one.example',
        accountStatus: 'active',
      },
      {
        accountId: 'acct_2',
        userId: 'usr_a',
        role: 'viewer',
        createdAt: 20,
        accountEmail: 'billing@two.example',
        accountStatus: 'suspended',
      },
    ]);
    expect((await members().ofAccount('acct_1')).map((m) => [m.email, m.role])).toEqual([
      ['ada@example.com', 'owner'],
      ['bob@example.com', 'developer'],
    ]);
  });

  it('changes a role and removes a member, and says when there was none', async () => {
    await insertAccount(database().db, 'acct_1');
    await insertUser(database().db, 'usr_1');
    await members().add({ accountId: 'acct_1', userId: 'usr_1', role: 'viewer', createdAt: 10 });
    expect(await members().setRole('acct_1', 'usr_1', 'admin')).toBe(true);
    expect((await members().find('acct_1', 'usr_1'))?.role).toBe('admin');
    expect(await members().remove('acct_1', 'usr_1')).toBe(true);
    expect(await members().remove('acct_1', 'usr_1')).toBe(false);
    expect(await members().setRole('acct_1', 'usr_1', 'owner')).toBe(false);
  });
});

describeStores('the invite store', (database) => {
  const invites = () => new KyselyInviteStore(database().db);
  const invite = (id: string, changes: { expiresAt?: number; createdAt?: number } = {}) => ({
    id,
    accountId: 'acct_1',
    email: `${id}@example.com`,
    role: 'developer' as const,
    invitedBy: null,
    createdAt: changes.createdAt ?? 10,
    expiresAt: changes.expiresAt ?? 1_000,
    acceptedAt: null,
    revokedAt: null,
  });

  it('finds an invite by its token hash and lists the pending ones oldest first', async () => {
    await insertAccount(database().db, 'acct_1');
    await invites().create({ ...invite('inv_b', { createdAt: 20 }), tokenHash: 'tok_b' });
    await invites().create({ ...invite('inv_a'), tokenHash: 'tok_a' });
    await invites().create({ ...invite('inv_old', { expiresAt: 50 }), tokenHash: 'tok_old' });
    expect(await invites().findByTokenHash('tok_a')).toEqual(invite('inv_a'));
    expect(await invites().findByTokenHash('tok_missing')).toBeUndefined();
    expect((await invites().pending('acct_1', 100)).map((i) => i.id)).toEqual(['inv_a', 'inv_b']);
  });

  it('is accepted once, never after it expired or was revoked', async () => {
    await insertAccount(database().db, 'acct_1');
    await invites().create({ ...invite('inv_a'), tokenHash: 'tok_a' });
    await invites().create({ ...invite('inv_b'), tokenHash: 'tok_b' });
    expect(await invites().accept('inv_a', 1_000)).toBe(false);
    expect(await invites().accept('inv_a', 100)).toBe(true);
    expect(await invites().accept('inv_a', 101)).toBe(false);
    expect(await invites().revoke('acct_1', 'inv_a', 102)).toBe(false);
    expect(await invites().revoke('acct_other', 'inv_b', 102)).toBe(false);
    expect(await invites().revoke('acct_1', 'inv_b', 102)).toBe(true);
    expect(await invites().accept('inv_b', 103)).toBe(false);
    expect(await invites().findByTokenHash('tok_b')).toEqual({ ...invite('inv_b'), revokedAt: 102 });
    expect(await invites().pending('acct_1', 104)).toEqual([]);
  });
});
