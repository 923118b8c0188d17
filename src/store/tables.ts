import type { Generated } from 'kysely';

/** Table shapes as Kysely sees them. Times are epoch milliseconds; money is integer micro-USD. */
export interface AccountsTable {
  id: string;
  email: string;
  status: string;
  available_micros: number;
  created_at: number;
  auto_topup_enabled: number;
  auto_topup_threshold_micros: number;
  auto_topup_amount_micros: number;
  /** The operator's choice of tier for this account; null: its plan's or the default. */
  tier: string | null;
}

export interface ApiKeysTable {
  id: string;
  account_id: string;
  name: string;
  type: string;
  hash: string;
  hint: string;
  created_at: number;
  last_used_at: number | null;
  last_used_ip: string | null;
  revoked_at: number | null;
  billing: string;
  overflow: number;
  limit_micros: number | null;
  limit_period: string | null;
  ip_allowlist: string | null;
  created_by: string | null;
  rotated_at: number | null;
}

export interface ApiKeyPreviousHashesTable {
  hash: string;
  key_id: string;
  valid_until: number;
}

export interface UsersTable {
  id: string;
  email: string;
  password_hash: string | null;
  operator: number;
  email_verified_at: number | null;
  created_at: number;
  password_changed_at: number | null;
}

export interface MembershipsTable {
  account_id: string;
  user_id: string;
  role: string;
  created_at: number;
}

export interface InvitesTable {
  id: string;
  account_id: string;
  email: string;
  role: string;
  token_hash: string;
  invited_by: string | null;
  created_at: number;
  expires_at: number;
  accepted_at: number | null;
  revoked_at: number | null;
}

export interface UserTokensTable {
  token_hash: string;
  user_id: string;
  purpose: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface SessionsTable {
  id_hash: string;
  user_id: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
}

export interface RateLimitsTable {
  key: string;
  count: number;
  window_start: number;
  window_ms: number;
}

export interface AuditEventsTable {
  id: string;
  account_id: string;
  at: number;
  actor_kind: string;
  actor_user_id: string | null;
  action: string;
  target_type: string;
  target_id: string;
  target_name: string | null;
  details: string;
  /** Numbered by the database as rows are written (an identity column, or a trigger on SQLite). */
  seq: Generated<number>;
}

export interface LedgerEntriesTable {
  id: string;
  account_id: string;
  kind: string;
  amount_micros: number;
  hold_id: string | null;
  note: string | null;
  created_at: number;
  pool: string;
  key_id: string | null;
  period_at: number | null;
}

export interface UsageRecordsTable {
  request_id: string;
  account_id: string;
  key_id: string;
  base_path: string;
  model: string;
  provider_id: string;
  upstream_model: string;
  prompt_tokens: number;
  completion_tokens: number;
  usage_source: string;
  cost_micros: number;
  status: number;
  latency_ms: number;
  client_ip: string;
  user_agent: string;
  created_at: number;
  pools: string;
  cache_read_tokens: number;
  cache_write_tokens: number;
  /** 1 when the provider reported more than the hold covered, and all of it was charged. */
  over_hold: number;
  /** RequestOutcome (ports/ledger.ts). */
  outcome: string;
}

export interface SubscriptionsTable {
  id: string;
  account_id: string;
  kind: string;
  plan_id: string;
  started_at: number;
  canceled_at: number | null;
}

/** One row: the last settlement-journal batch committed (settlement-journal.ts). */
export interface SettlementJournalTable {
  id: number;
  applied_seq: number;
}

export interface TopupRequestsTable {
  id: string;
  account_id: string;
  amount_micros: number;
  balance_micros: number;
  status: string;
  created_at: number;
}

/** An instance serving from the shared database, and when it last said so (the database's clock). */
export interface LedgerInstancesTable {
  id: string;
  started_at: number;
  heartbeat_at: number;
  expires_after_ms: number;
}

/** A hold in flight on PostgreSQL; each pool's part is NULL when the hold did not draw on it. */
export interface LedgerHoldsTable {
  id: string;
  account_id: string;
  key_id: string;
  instance_id: string;
  placed_at: number;
  amount_micros: number;
  prepaid_micros: number | null;
  subscription_micros: number | null;
  agent_micros: number | null;
  parts: string;
  scope: string;
  /** NULL for a hold; a credit lease's state otherwise (migrations/2026-12-01-credit-leases.ts). */
  lease_state: 'open' | 'recalled' | 'retired' | null;
}

/** A running figure of an account's spend (postgres-ledger.ts), holds in flight included. */
export interface LedgerTalliesTable {
  account_id: string;
  scope: string;
  window_from: number;
  window_until: number;
  used_micros: number;
  requests: number;
}

export interface Database {
  accounts: AccountsTable;
  api_keys: ApiKeysTable;
  ledger_entries: LedgerEntriesTable;
  usage_records: UsageRecordsTable;
  subscriptions: SubscriptionsTable;
  topup_requests: TopupRequestsTable;
  settlement_journal: SettlementJournalTable;
  api_key_previous_hashes: ApiKeyPreviousHashesTable;
  users: UsersTable;
  memberships: MembershipsTable;
  invites: InvitesTable;
  user_tokens: UserTokensTable;
  sessions: SessionsTable;
  rate_limits: RateLimitsTable;
  audit_events: AuditEventsTable;
  ledger_instances: LedgerInstancesTable;
  ledger_holds: LedgerHoldsTable;
  ledger_tallies: LedgerTalliesTable;
}
