import type { KeyType } from '../domain/api-key.js';
import type { Subscription } from '../domain/plans.js';
import type { AccountStatus } from '../ports/accounts.js';
import type { IpAllowlists, KeyCredential } from '../ports/keys.js';
import { allowlistOf, spendingOf } from './kysely-keys.js';

/** What the request path reads of a key, its account and its live subscriptions, in one row. */
export interface CredentialRow {
  key_id: string;
  account_id: string;
  type: KeyType;
  hash: string;
  revoked_at: number | null;
  status: AccountStatus;
  account_tier: string | null;
  billing: string;
  overflow: number;
  limit_micros: number | null;
  limit_period: string | null;
  inference_plan: string | null;
  inference_since: number | null;
  chat_plan: string | null;
  chat_since: number | null;
  ip_allowlist: string | null;
  /** Set when the hash matched a secret a rotation replaced. */
  valid_until: number | null;
}

/**
 * The account's live subscriptions come along, so that billing needs no second lookup. Plain SQL
 * that both SQLite and PostgreSQL accept; `where` carries the dialect's placeholder.
 */
export function credentialQuery(from: string, where: string, validUntil: string): string {
  return `SELECT k.id AS key_id, k.account_id, k.type, k.hash, k.revoked_at, a.status, a.tier AS account_tier,
              k.billing, k.overflow, k.limit_micros, k.limit_period, k.ip_allowlist,
              si.plan_id AS inference_plan, si.started_at AS inference_since,
              sc.plan_id AS chat_plan, sc.started_at AS chat_since, ${validUntil} AS valid_until
         FROM ${from} JOIN accounts a ON a.id = k.account_id
         LEFT JOIN subscriptions si
           ON si.account_id = k.account_id AND si.kind = 'inference' AND si.canceled_at IS NULL
         LEFT JOIN subscriptions sc
           ON sc.account_id = k.account_id AND sc.kind = 'chat' AND sc.canceled_at IS NULL
        WHERE ${where}`;
}

function subscription(planId: string | null, since: number | null): Subscription | undefined {
  return planId === null || since === null ? undefined : { planId, startedAt: Number(since) };
}

/** The credential a row describes; `hash` is the secret's hash the request presented. */
export function credentialOf(row: CredentialRow, hash: string, allowlists: IpAllowlists): KeyCredential {
  const allowlist = allowlistOf(row.ip_allowlist);
  return {
    keyId: row.key_id,
    accountId: row.account_id,
    type: row.type,
    // A previous secret's row carries the key's current hash: the one it matched is this.
    hash: row.valid_until === null ? row.hash : hash,
    revoked: row.revoked_at !== null,
    accountStatus: row.status,
    spending: spendingOf(row),
    subscriptions: {
      inference: subscription(row.inference_plan, row.inference_since),
      chat: subscription(row.chat_plan, row.chat_since),
    },
    accountTier: row.account_tier ?? undefined,
    validUntil: row.valid_until === null ? undefined : Number(row.valid_until),
    allowlist: allowlist.length === 0 ? undefined : allowlists.compile(allowlist),
  };
}
