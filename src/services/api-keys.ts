import { generateApiKey, type KeyType, keyHint } from '../domain/api-key.js';
import type { AccountStore } from '../ports/accounts.js';
import type { ApiKeyRecord, KeyHasher, KeyStore, RevokeOutcome } from '../ports/keys.js';
import type { Clock, RandomSource } from '../ports/system.js';
import type { AccountResult } from './accounts.js';

export interface CreatedKey {
  readonly record: ApiKeyRecord;
  /** The only time the plaintext exists outside the client: it is shown once and never stored. */
  readonly key: string;
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
    /** Told after a revocation, so that caches in this process drop the key at once. */
    private readonly afterChange: () => void = () => {},
  ) {}

  async create(accountId: string, name: string, type: KeyType): Promise<AccountResult<CreatedKey>> {
    const trimmed = name.trim();
    if (trimmed.length === 0 || trimmed.length > 100)
      return { ok: false, error: 'the key name must be 1 to 100 characters' };
    if (!(await this.accounts.find(accountId)))
      return { ok: false, error: `no account with id ${accountId}` };
    const key = generateApiKey(this.brand, type, (count) => this.random.bytes(count));
    const record: ApiKeyRecord = {
      id: this.newId('key'),
      accountId,
      name: trimmed,
      type,
      hint: keyHint(this.brand, type, key),
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

  async revoke(keyId: string): Promise<RevokeOutcome> {
    const outcome = await this.keys.revoke(keyId, this.clock.now());
    this.afterChange();
    return outcome;
  }
}
