import { expect, it } from 'vitest';
import { insertUser } from '../../test/support/store-rows.js';
import { describeStores } from '../../test/support/stores.js';
import { KyselyAuditLog } from './kysely-audit.js';

describeStores('the audit trail', (database) => {
  let now = 1_000;
  let ids = 0;
  const log = () =>
    new KyselyAuditLog(
      database().db,
      () => now,
      (prefix) => `${prefix}_${String(++ids).padStart(4, '0')}`,
    );

  it('lists an account’s events newest first, those of one millisecond in the order written', async () => {
    await insertUser(database().db, 'usr_1', 'ada@example.com');
    now = 1_000;
    await log().record({
      accountId: 'acct_1',
      actor: { kind: 'user', userId: 'usr_1' },
      action: 'key.created',
      target: { type: 'key', id: 'key_1', name: 'prod' },
      details: { billing: 'prepaid', ipAllowlist: ['10.0.0.0/8'], limit: null },
    });
    now = 2_000;
    // Ids made in an order that is not the order of writing.
    ids = 100;
    await log().record({
      accountId: 'acct_1',
      actor: { kind: 'cli' },
      action: 'member.removed',
      target: { type: 'member', id: 'usr_2' },
    });
    ids = 10;
    await log().record({
      accountId: 'acct_1',
      actor: { kind: 'cli' },
      action: 'key.revoked',
      target: { type: 'key', id: 'key_1' },
    });
    await log().record({
      accountId: 'acct_2',
      actor: { kind: 'cli' },
      action: 'key.revoked',
      target: { type: 'key', id: 'key_9' },
    });
    const listed = await log().list('acct_1', 10);
    expect(listed.map((e) => e.action)).toEqual(['key.revoked', 'member.removed', 'key.created']);
    expect(listed[2]).toEqual({
      id: 'aud_0001',
      at: 1_000,
      accountId: 'acct_1',
      actor: { kind: 'user', userId: 'usr_1' },
      actorEmail: 'ada@example.com',
      action: 'key.created',
      target: { type: 'key', id: 'key_1', name: 'prod' },
      details: { billing: 'prepaid', ipAllowlist: ['10.0.0.0/8'], limit: null },
    });
    expect(listed[0]?.actorEmail).toBeNull();
    expect((await log().list('acct_1', 2)).map((e) => e.action)).toEqual(['key.revoked', 'member.removed']);
  });
});
