import { generateApiKey, type KeyType, keyHint } from '../domain/api-key.js';
import { type KeySpending, PREPAID_SPENDING } from '../domain/key-spending.js';
import type { AccountStore } from '../ports/accounts.js';
import type { ApiKeyRecord, KeyHasher, KeyStore, RevokeOutcome } from '../ports/keys.js';
import type { Clock, RandomSource } from '../ports/system.js';
import { type AccountResult, MAX_CREDIT_MICROS } from './accounts.js';

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

export class ApiKeyService {
  constructor(
    private readonly brand: string,
    private readonly accounts: AccountStore,
    private readonly keys: KeyStore,
    private readonly hasher: KeyHasher,
    private readonly random: RandomSource,
    private readonly clock: Clock,
    private readonly newId: (prefix: string) => string,
    /** Told after a revocation or a change, so that caches in this process see it at once. */
    private readonly afterChange: () => void = () => {},
  ) {}

  async create(
    accountId: string,
    name: string,
    type: KeyType,
    spending: KeySpending = PREPAID_SPENDING,
  ): Promise<AccountResult<CreatedKey>> {
    const trimmed = name.trim();
    if (trimmed.length === 0 || trimmed.length > 100)
      return { ok: false, error: 'the key name must be 1 to 100 characters' };
    const problem = spendingProblem(type, spending);
    if (problem) return { ok: false, error: problem };
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
    };
    await this.keys.insert({ ...record, hash: this.hasher.hash(key) });
    return { ok: true, value: { record, key } };
  }

  async list(accountId: string): Promise<AccountResult<ApiKeyRecord[]>> {
    if (!(await this.accounts.find(accountId)))
      return { ok: false, error: `no account with id ${accountId}` };
    return { ok: true, value: await this.keys.listForAccount(accountId) };
  }

  /** Changes how a key spends; it applies from the key's next request. */
  async updateSpending(keyId: string, change: SpendingChange): Promise<AccountResult<ApiKeyRecord>> {
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
    this.afterChange();
    return { ok: true, value: { ...key, spending } };
  }

  async revoke(keyId: string): Promise<RevokeOutcome> {
    const outcome = await this.keys.revoke(keyId, this.clock.now());
    this.afterChange();
    return outcome;
  }
}
