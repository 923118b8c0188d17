import type { Kysely } from 'kysely';
import { PREPAID_SPENDING } from '../../src/domain/key-spending.js';
import type { ApiKeyRecord } from '../../src/ports/keys.js';
import { KyselyAccountStore } from '../../src/store/kysely-accounts.js';
import { KyselyKeyStore } from '../../src/store/kysely-keys.js';
import { KyselyUserStore } from '../../src/store/kysely-users.js';
import type { Database } from '../../src/store/tables.js';

/** Rows the store tests build on, written through the stores themselves. */

export async function insertAccount(db: Kysely<Database>, id: string, email = `${id}@example.com`) {
  const account = await new KyselyAccountStore(db).create({ id, email, now: 1_000 });
  if (!account) throw new Error(`could not create account ${id}`);
  return account;
}

export async function insertUser(db: Kysely<Database>, id: string, email = `${id}@example.com`) {
  const user = await new KyselyUserStore(db).create({
    id,
    email,
    passwordHash: null,
    operator: false,
    emailVerifiedAt: null,
    createdAt: 1_000,
  });
  if (!user) throw new Error(`could not create user ${id}`);
  return user;
}

export function keyRecord(id: string, accountId: string, changes: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  return {
    id,
    accountId,
    name: `key ${id}`,
    type: 'inference',
    hint: `llmbase_…${id.slice(-4)}`,
    spending: PREPAID_SPENDING,
    createdAt: 2_000,
    lastUsedAt: null,
    lastUsedIp: null,
    revokedAt: null,
    ipAllowlist: [],
    createdBy: null,
    rotatedAt: null,
    previousValidUntil: null,
    ...changes,
  };
}

export async function insertKey(
  db: Kysely<Database>,
  id: string,
  accountId: string,
  changes: Partial<ApiKeyRecord> = {},
): Promise<ApiKeyRecord> {
  const record = keyRecord(id, accountId, changes);
  await new KyselyKeyStore(db).insert({ ...record, hash: `hash_${id}` });
  return record;
}
