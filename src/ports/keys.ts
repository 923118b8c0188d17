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
  /** Addresses and CIDR ranges the key may be used from; empty allows every address. */
  readonly ipAllowlist: readonly string[];
  /** The dashboard user who created it; null when an operator did, from the CLI. */
  readonly createdBy: string | null;
  readonly rotatedAt: number | null;
  /** When the last secret a rotation replaced stops working, while it still works; else null. */
  readonly previousValidUntil: number | null;
}

/** Whether a client address may use a key; built once per cached credential. */
export interface IpMatcher {
  allows(ip: string): boolean;
}

export interface IpAllowlists {
  /** The entries in canonical form, or what is wrong with the first bad one. */
  parse(entries: readonly string[]): { ok: true; value: string[] } | { ok: false; error: string };
  compile(entries: readonly string[]): IpMatcher;
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
  /** The tier an operator gave the account itself (`accounts set-tier`), if any. */
  readonly accountTier: string | undefined;
  /**
   * Set when the hash is a secret a rotation replaced: it works until then (epoch ms), checked on
   * every request, so a cached credential cannot outlive its grace period.
   */
  readonly validUntil: number | undefined;
  /** Undefined when the key may be used from any address. */
  readonly allowlist: IpMatcher | undefined;
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

export interface KeyRotation {
  readonly keyId: string;
  readonly newHash: string;
  readonly hint: string;
  readonly now: number;
  /** Until when the replaced secret keeps working. */
  readonly previousValidUntil: number;
}

export interface KeyStore {
  insert(key: ApiKeyRecord & { readonly hash: string }): Promise<void>;
  listForAccount(accountId: string): Promise<ApiKeyRecord[]>;
  revoke(keyId: string, now: number): Promise<RevokeOutcome>;
  find(keyId: string): Promise<ApiKeyRecord | undefined>;
  /** False when no such key exists. */
  updateSpending(keyId: string, spending: KeySpending): Promise<boolean>;
  /** False when no such key exists. */
  updateDetails(keyId: string, details: { name?: string; ipAllowlist?: readonly string[] }): Promise<boolean>;
  /**
   * A new secret for the same key, in one transaction: the current hash joins the previous ones
   * with its expiry. False when the key does not exist or is revoked.
   */
  rotate(rotation: KeyRotation): Promise<boolean>;
}

/** What a key has spent in a window, from the ledger's settled entries. */
export interface KeySpendReader {
  spent(accountId: string, keyId: string, from: number, until: number): Promise<number>;
}

/** HMAC of keys with the operator's secret; equality in constant time. */
export interface KeyHasher {
  hash(key: string): string;
  equal(a: string, b: string): boolean;
}
