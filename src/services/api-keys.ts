import { generateApiKey, type KeyType, keyHint } from '../domain/api-key.js';
import { type KeySpending, PREPAID_SPENDING } from '../domain/key-spending.js';
import { usdDecimal } from '../domain/money.js';
import type { AccountStore } from '../ports/accounts.js';
import { type Actor, type AuditDetail, type AuditLog, CLI_ACTOR } from '../ports/audit.js';
import { EVERYTHING } from '../ports/change-feed.js';
import type { ApiKeyRecord, IpAllowlists, KeyHasher, KeyStore, RevokeOutcome } from '../ports/keys.js';
import type { Clock, RandomSource } from '../ports/system.js';
import { type AccountResult, MAX_CREDIT_MICROS } from './accounts.js';
import { type AnnounceChange, announceNothing } from './change-announcer.js';

export interface CreatedKey {
  readonly record: ApiKeyRecord;
  /** The only time the plaintext exists outside the client: it is shown once and never stored. */
  readonly key: string;
}

/** A change to a key's spending; absent fields stay as they are, `limit: null` removes the limit. */
export interface SpendingChange {
  readonly billing?: KeySpending['billing'];
  readonly overflow?: boolean;
  readonly limit?: KeySpending['limit'] | null;
}

/** Why a combination of settings makes no sense for a key, or undefined when it does. */
export function spendingProblem(type: KeyType, spending: KeySpending): string | undefined {
  if (type === 'chat_agent' && spending.billing !== 'prepaid') {
    return 'chat-agent keys always spend the Pro chat quota first; --billing applies to inference keys only';
  }
  if (type === 'inference' && spending.billing === 'prepaid' && spending.overflow) {
    return 'prepaid overflow applies to subscription-billed inference keys and chat-agent keys; a prepaid key already spends prepaid credit';
  }
  const limit = spending.limit;
  if (
    limit &&
    (!Number.isSafeInteger(limit.micros) || limit.micros <= 0 || limit.micros > MAX_CREDIT_MICROS)
  ) {
    return 'the key limit must be more than 0 and at most 1000000 USD';
  }
  return undefined;
}

/** A grace period longer than this would keep a replaced secret alive for too long. */
export const MAX_ROTATION_GRACE_MS = 30 * 86_400_000;

export interface CreateOptions {
  readonly actor?: Actor;
  readonly ipAllowlist?: readonly string[];
}

/** A change of a key's name or IP allow-list; absent fields stay as they are. */
export interface DetailsChange {
  readonly name?: string;
  readonly ipAllowlist?: readonly string[];
}

function spendingDetails(spending: KeySpending): Record<string, AuditDetail> {
  return {
    billing: spending.billing,
    overflow: spending.overflow,
    limitUsd: spending.limit ? usdDecimal(spending.limit.micros) : null,
    limitPeriod: spending.limit?.period ?? null,
  };
}

function validName(name: string): string | undefined {
  const trimmed = name.trim();
  return trimmed.length === 0 || trimmed.length > 100 ? undefined : trimmed;
}

export class ApiKeyService {
  constructor(
    private readonly brand: string,
    private readonly accounts: AccountStore,
    private readonly keys: KeyStore,
    private readonly hasher: KeyHasher,
    private readonly random: RandomSource,
    private readonly clock: Clock,
    private readonly newId: (prefix: string) => string,
    private readonly allowlists: IpAllowlists,
    private readonly audit: AuditLog,
    /** Told after a revocation or a change, so that every process's caches drop the key. */
    private readonly announce: AnnounceChange = announceNothing,
  ) {}

  async create(
    accountId: string,
    name: string,
    type: KeyType,
    spending: KeySpending = PREPAID_SPENDING,
    options: CreateOptions = {},
  ): Promise<AccountResult<CreatedKey>> {
    const trimmed = validName(name);
    if (trimmed === undefined) return { ok: false, error: 'the key name must be 1 to 100 characters' };
    const problem = spendingProblem(type, spending);
    if (problem) return { ok: false, error: problem };
    const allowlist = this.allowlists.parse(options.ipAllowlist ?? []);
    if (!allowlist.ok) return { ok: false, error: `IP allow-list: ${allowlist.error}` };
    const actor = options.actor ?? CLI_ACTOR;
    if (!(await this.accounts.find(accountId)))
      return { ok: false, error: `no account with id ${accountId}` };
    const key = generateApiKey(this.brand, type, (count) => this.random.bytes(count));
    const record: ApiKeyRecord = {
      id: this.newId('key'),
      accountId,
      name: trimmed,
      type,
      hint: keyHint(this.brand, type, key),
      spending,
      createdAt: this.clock.now(),
      lastUsedAt: null,
      lastUsedIp: null,
      revokedAt: null,
      ipAllowlist: allowlist.value,
      createdBy: actor.kind === 'user' ? actor.userId : null,
      rotatedAt: null,
      previousValidUntil: null,
    };
    await this.keys.insert({ ...record, hash: this.hasher.hash(key) });
    await this.audit.record({
      accountId,
      actor,
      action: 'key.created',
      target: { type: 'key', id: record.id, name: record.name },
      details: { type, ...spendingDetails(spending), ipAllowlist: allowlist.value },
    });
    return { ok: true, value: { record, key } };
  }

  async find(keyId: string): Promise<ApiKeyRecord | undefined> {
    return this.keys.find(keyId);
  }

  async list(accountId: string): Promise<AccountResult<ApiKeyRecord[]>> {
    if (!(await this.accounts.find(accountId)))
      return { ok: false, error: `no account with id ${accountId}` };
    return { ok: true, value: await this.keys.listForAccount(accountId) };
  }

  /** Changes how a key spends; it applies from the key's next request. */
  async updateSpending(
    keyId: string,
    change: SpendingChange,
    actor: Actor = CLI_ACTOR,
  ): Promise<AccountResult<ApiKeyRecord>> {
    const key = await this.keys.find(keyId);
    if (!key) return { ok: false, error: `no key with id ${keyId}` };
    const spending: KeySpending = {
      billing: change.billing ?? key.spending.billing,
      overflow: change.overflow ?? key.spending.overflow,
      limit: change.limit === null ? undefined : (change.limit ?? key.spending.limit),
    };
    const problem = spendingProblem(key.type, spending);
    if (problem) return { ok: false, error: problem };
    await this.keys.updateSpending(keyId, spending);
    await this.announce({ scope: 'key', what: 'changed', keyId, accountId: key.accountId });
    await this.audit.record({
      accountId: key.accountId,
      actor,
      action: 'key.updated',
      target: { type: 'key', id: key.id, name: key.name },
      details: spendingDetails(spending),
    });
    return { ok: true, value: { ...key, spending } };
  }

  /** Renames a key or changes its IP allow-list; the list applies from the key's next request. */
  async updateDetails(
    keyId: string,
    change: DetailsChange,
    actor: Actor = CLI_ACTOR,
  ): Promise<AccountResult<ApiKeyRecord>> {
    const key = await this.keys.find(keyId);
    if (!key) return { ok: false, error: `no key with id ${keyId}` };
    const name = change.name === undefined ? undefined : validName(change.name);
    if (change.name !== undefined && name === undefined)
      return { ok: false, error: 'the key name must be 1 to 100 characters' };
    let ipAllowlist: string[] | undefined;
    if (change.ipAllowlist !== undefined) {
      const parsed = this.allowlists.parse(change.ipAllowlist);
      if (!parsed.ok) return { ok: false, error: `IP allow-list: ${parsed.error}` };
      ipAllowlist = parsed.value;
    }
    await this.keys.updateDetails(keyId, {
      ...(name === undefined ? {} : { name }),
      ...(ipAllowlist === undefined ? {} : { ipAllowlist }),
    });
    await this.announce({ scope: 'key', what: 'changed', keyId, accountId: key.accountId });
    const details: Record<string, AuditDetail> = {};
    if (name !== undefined) details.name = name;
    if (ipAllowlist !== undefined) details.ipAllowlist = ipAllowlist;
    await this.audit.record({
      accountId: key.accountId,
      actor,
      action: 'key.updated',
      target: { type: 'key', id: key.id, name: name ?? key.name },
      details,
    });
    return {
      ok: true,
      value: { ...key, name: name ?? key.name, ipAllowlist: ipAllowlist ?? key.ipAllowlist },
    };
  }

  /**
   * A new secret for the same key: same id, name, settings, limit and history, so a rotation never
   * resets a limit. The replaced secret keeps working for `graceMs` (0: it stops at once).
   */
  async rotate(keyId: string, graceMs: number, actor: Actor = CLI_ACTOR): Promise<AccountResult<CreatedKey>> {
    if (!Number.isSafeInteger(graceMs) || graceMs < 0 || graceMs > MAX_ROTATION_GRACE_MS)
      return { ok: false, error: 'the grace period must be from 0 to 30 days' };
    const key = await this.keys.find(keyId);
    if (!key) return { ok: false, error: `no key with id ${keyId}` };
    if (key.revokedAt !== null) return { ok: false, error: `key ${keyId} is revoked; create a new key` };
    const secret = generateApiKey(this.brand, key.type, (count) => this.random.bytes(count));
    const now = this.clock.now();
    const rotated = await this.keys.rotate({
      keyId,
      newHash: this.hasher.hash(secret),
      hint: keyHint(this.brand, key.type, secret),
      now,
      previousValidUntil: now + graceMs,
    });
    if (!rotated) return { ok: false, error: `key ${keyId} is revoked; create a new key` };
    await this.announce({ scope: 'key', what: 'rotated', keyId, accountId: key.accountId });
    await this.audit.record({
      accountId: key.accountId,
      actor,
      action: 'key.rotated',
      target: { type: 'key', id: key.id, name: key.name },
      details: { graceSeconds: Math.round(graceMs / 1000) },
    });
    const record = await this.keys.find(keyId);
    return { ok: true, value: { record: record ?? key, key: secret } };
  }

  async revoke(keyId: string, actor: Actor = CLI_ACTOR): Promise<RevokeOutcome> {
    const outcome = await this.keys.revoke(keyId, this.clock.now());
    if (outcome === 'revoked') {
      const key = await this.keys.find(keyId);
      await this.announce(
        key ? { scope: 'key', what: 'revoked', keyId, accountId: key.accountId } : EVERYTHING,
      );
      if (key)
        await this.audit.record({
          accountId: key.accountId,
          actor,
          action: 'key.revoked',
          target: { type: 'key', id: key.id, name: key.name },
        });
    }
    return outcome;
  }
}
