import { expect, it } from 'vitest';
import { insertUser } from '../../test/support/store-rows.js';
import { describeStores } from '../../test/support/stores.js';
import { KyselyUserStore, KyselyUserTokenStore } from './kysely-users.js';

describeStores('the user store', (database) => {
  const users = () => new KyselyUserStore(database().db);

  it('creates a user once per email and finds them by id or email', async () => {
    const user = {
      id: 'usr_1',
      email: 'ada@example.com',
      passwordHash: '$argon2id$hash',
      operator: true,
      emailVerifiedAt: 7,
      createdAt: 5,
    };
    expect(await users().create(user)).toEqual(user);
    expect(await users().create({ ...user, id: 'usr_2' })).toBeUndefined();
    expect(await users().find('usr_1')).toEqual(user);
    expect(await users().findByEmail('ada@example.com')).toEqual(user);
    expect(await users().findByEmail('nobody@example.com')).toBeUndefined();
  });

  it('sets a password, and marks the email verified only the first time', async () => {
    await insertUser(database().db, 'usr_1');
    await users().setPassword('usr_1', '$argon2id$new', 50);
    await users().markVerified('usr_1', 60);
    await users().markVerified('usr_1', 70);
    const found = await users().find('usr_1');
    expect([found?.passwordHash, found?.emailVerifiedAt, found?.operator]).toEqual([
      '$argon2id$new',
      60,
      false,
    ]);
  });
});

describeStores('one-time user tokens', (database) => {
  const tokens = () => new KyselyUserTokenStore(database().db);

  it('are used once, for their purpose, before they expire', async () => {
    await insertUser(database().db, 'usr_1');
    await tokens().create({ tokenHash: 'th_1', userId: 'usr_1', purpose: 'reset', now: 10, expiresAt: 100 });
    await tokens().create({ tokenHash: 'th_2', userId: 'usr_1', purpose: 'verify', now: 10, expiresAt: 100 });
    expect(await tokens().consume('th_1', 'verify', 20)).toBeUndefined();
    expect(await tokens().consume('th_1', 'reset', 20)).toBe('usr_1');
    expect(await tokens().consume('th_1', 'reset', 21)).toBeUndefined();
    expect(await tokens().consume('th_2', 'verify', 100)).toBeUndefined();
    expect(await tokens().consume('th_missing', 'reset', 20)).toBeUndefined();
  });

  it('let exactly one of several simultaneous uses of a link succeed', async () => {
    await insertUser(database().db, 'usr_1');
    await tokens().create({ tokenHash: 'th_1', userId: 'usr_1', purpose: 'reset', now: 10, expiresAt: 100 });
    const uses = await Promise.all(Array.from({ length: 6 }, () => tokens().consume('th_1', 'reset', 20)));
    expect(uses.filter((use) => use === 'usr_1')).toHaveLength(1);
  });
});
