import type { KeyType } from '../domain/api-key.js';
import type { KeySpending } from '../domain/key-spending.js';
import type { AccountSubscriptions } from '../domain/plans.js';
import type { AccountStatus } from './accounts.js';

export interface ApiKeyRecord {
  readonly id: string;
  readonly accountId: string;
  readonly name: string;
  readonly type: KeyType;
  /** Prefix and last four characters; the key itself is never stored. */
  readonly hint: string;
  readonly spending: KeySpending;
  readonly createdAt: number;
  readonly lastUsedAt: number | null;
  readonly lastUsedIp: string | null;
  readonly revokedAt: number | null;
}

/** What authentication needs, read in one lookup by the key's HMAC. */
export interface KeyCredential {
  readonly keyId: string;
  readonly accountId: string;
  readonly type: KeyType;
  readonly hash: string;
  readonly revoked: boolean;
  readonly accountStatus: AccountStatus;
  readonly spending: KeySpending;
  /** The account's live subscriptions, read with the key so a request needs one cached lookup. */
  readonly subscriptions: AccountSubscriptions;
}

export interface KeyUse {
  readonly keyId: string;
  readonly at: number;
  readonly ip: string;
}

export type RevokeOutcome = 'revoked' | 'already-revoked' | 'not-found';

/** The lookup authentication makes on every request. */
export interface CredentialLookup {
  findCredential(hash: string): Promise<KeyCredential | undefined>;
}

/** Where the last-use batches of KeyUseRecorder go. */
export interface KeyUseSink {
  recordUses(uses: readonly KeyUse[]): Promise<void>;
}

export interface KeyStore {
  insert(key: ApiKeyRecord & { readonly hash: string }): Promise<void>;
  listForAccount(accountId: string): Promise<ApiKeyRecord[]>;
  revoke(keyId: string, now: number): Promise<RevokeOutcome>;
  find(keyId: string): Promise<ApiKeyRecord | undefined>;
  /** False when no such key exists. */
  updateSpending(keyId: string, spending: KeySpending): Promise<boolean>;
}

/** HMAC of keys with the operator's secret; equality in constant time. */
export interface KeyHasher {
  hash(key: string): string;
  equal(a: string, b: string): boolean;
}
