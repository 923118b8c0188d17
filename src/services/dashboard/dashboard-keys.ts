import type { KeyType } from '../../domain/api-key.js';
import { type DashboardFailure, fail, type Outcome, ok } from '../../domain/dashboard-errors.js';
import { type KeySnippets, keySnippets } from '../../domain/key-snippets.js';
import type { KeySpending, KeySpendLimit } from '../../domain/key-spending.js';
import { calendarWindow, type LimitPeriod } from '../../domain/periods.js';
import { canManageKey } from '../../domain/roles.js';
import type { ApiKeyRecord, KeySpendReader } from '../../ports/keys.js';
import type { Clock } from '../../ports/system.js';
import type { UserStore } from '../../ports/users.js';
import type { ApiKeyService, CreatedKey } from '../api-keys.js';
import { type AccountAccess, type AccountContext, suspended } from './access.js';

export interface KeyView {
  readonly record: ApiKeyRecord;
  readonly creatorEmail: string | null;
  /** What the key spent in its limit's period, or this calendar month when it has no limit. */
  readonly spentMicros: number;
  readonly spendPeriod: LimitPeriod;
}

export interface RevealedKey {
  readonly view: KeyView;
  /** Shown once: never stored, never shown again. */
  readonly secret: string;
  readonly baseUrls: string[];
  readonly snippets: KeySnippets;
}

export interface NewKey {
  readonly name: string;
  readonly type: KeyType;
  readonly spending: KeySpending;
  readonly ipAllowlist: readonly string[];
}

export interface KeyChange {
  readonly name?: string;
  readonly ipAllowlist?: readonly string[];
  /** null removes the limit. */
  readonly limit?: KeySpendLimit | null;
}

/** Where each key type works: the public URL with each base path of its API. */
export interface KeyEndpoints {
  readonly publicUrl: () => string;
  readonly basePaths: Readonly<Record<KeyType, readonly string[]>>;
  /** The model the snippets name. */
  readonly exampleModel: string;
}

/** The service's error messages name the field they concern; the dashboard shows it beside it. */
function invalid(message: string): { ok: false; failure: DashboardFailure } {
  const field = message.startsWith('IP allow-list')
    ? 'ipAllowlist'
    : message.includes('name')
      ? 'name'
      : message.includes('limit')
        ? 'spendLimitUsd'
        : message.includes('grace')
          ? 'graceSeconds'
          : undefined;
  return fail('invalid_request', `${message.charAt(0).toUpperCase()}${message.slice(1)}.`, field);
}

/** The API Keys page: every action checked against the user's role in the key's own account. */
export class DashboardKeys {
  constructor(
    private readonly access: AccountAccess,
    private readonly keys: ApiKeyService,
    private readonly users: UserStore,
    private readonly spend: KeySpendReader,
    private readonly endpoints: KeyEndpoints,
    private readonly clock: Clock,
  ) {}

  async list(userId: string, accountId: string): Promise<Outcome<KeyView[]>> {
    const access = await this.access.require(userId, accountId, 'keys.read');
    if (!access.ok) return access;
    const listed = await this.keys.list(accountId);
    if (!listed.ok) return fail('not_found');
    const emails = new Map<string, string | null>();
    const views: KeyView[] = [];
    for (const record of listed.value) views.push(await this.view(record, emails));
    return ok(views);
  }

  async create(userId: string, accountId: string, input: NewKey): Promise<Outcome<RevealedKey>> {
    const access = await this.access.require(userId, accountId, 'keys.create');
    if (!access.ok) return access;
    const blocked = suspended(access.value.account);
    if (blocked) return { ok: false, failure: blocked };
    const user = await this.users.find(userId);
    if (!user?.emailVerifiedAt) return fail('email_not_verified');
    const created = await this.keys.create(accountId, input.name, input.type, input.spending, {
      actor: { kind: 'user', userId },
      ipAllowlist: input.ipAllowlist,
    });
    if (!created.ok) return invalid(created.error);
    return ok(await this.reveal(created.value));
  }

  async rotate(
    userId: string,
    accountId: string,
    keyId: string,
    graceMs: number,
  ): Promise<Outcome<RevealedKey>> {
    const managed = await this.manage(userId, accountId, keyId, true);
    if (!managed.ok) return managed;
    const rotated = await this.keys.rotate(keyId, graceMs, { kind: 'user', userId });
    if (!rotated.ok) return invalid(rotated.error);
    return ok(await this.reveal(rotated.value));
  }

  async revoke(userId: string, accountId: string, keyId: string): Promise<Outcome<KeyView>> {
    // Revoking stays possible in a suspended account: it only ever takes access away.
    const managed = await this.manage(userId, accountId, keyId, false);
    if (!managed.ok) return managed;
    await this.keys.revoke(keyId, { kind: 'user', userId });
    return this.fresh(keyId);
  }

  async update(
    userId: string,
    accountId: string,
    keyId: string,
    change: KeyChange,
  ): Promise<Outcome<KeyView>> {
    const managed = await this.manage(userId, accountId, keyId, true);
    if (!managed.ok) return managed;
    const actor = { kind: 'user', userId } as const;
    if (change.name !== undefined || change.ipAllowlist !== undefined) {
      const updated = await this.keys.updateDetails(
        keyId,
        {
          ...(change.name === undefined ? {} : { name: change.name }),
          ...(change.ipAllowlist === undefined ? {} : { ipAllowlist: change.ipAllowlist }),
        },
        actor,
      );
      if (!updated.ok) return invalid(updated.error);
    }
    if (change.limit !== undefined) {
      const updated = await this.keys.updateSpending(keyId, { limit: change.limit }, actor);
      if (!updated.ok) return invalid(updated.error);
    }
    return this.fresh(keyId);
  }

  /** The key, when it belongs to this account and the user may change it; another account's key is not_found. */
  private async manage(
    userId: string,
    accountId: string,
    keyId: string,
    mustBeActive: boolean,
  ): Promise<Outcome<{ context: AccountContext; record: ApiKeyRecord }>> {
    const access = await this.access.require(userId, accountId, 'keys.read');
    if (!access.ok) return access;
    const record = await this.keys.find(keyId);
    if (!record || record.accountId !== accountId) return fail('not_found');
    if (!canManageKey(access.value.membership.role, record.createdBy, userId))
      return fail('forbidden', 'Your role allows changing only the keys you created, or none.');
    const blocked = mustBeActive ? suspended(access.value.account) : undefined;
    if (blocked) return { ok: false, failure: blocked };
    return ok({ context: access.value, record });
  }

  private async fresh(keyId: string): Promise<Outcome<KeyView>> {
    const record = await this.keys.find(keyId);
    return record ? ok(await this.view(record, new Map())) : fail('not_found');
  }

  private async reveal(created: CreatedKey): Promise<RevealedKey> {
    const { publicUrl, basePaths, exampleModel } = this.endpoints;
    const baseUrls = basePaths[created.record.type].map((path) => `${publicUrl()}${path}`);
    return {
      view: await this.view(created.record, new Map()),
      secret: created.key,
      baseUrls,
      snippets: keySnippets(baseUrls[0] ?? publicUrl(), created.key, exampleModel, created.record.type),
    };
  }

  private async view(record: ApiKeyRecord, emails: Map<string, string | null>): Promise<KeyView> {
    let creatorEmail: string | null = null;
    if (record.createdBy !== null) {
      if (!emails.has(record.createdBy))
        emails.set(record.createdBy, (await this.users.find(record.createdBy))?.email ?? null);
      creatorEmail = emails.get(record.createdBy) ?? null;
    }
    const spendPeriod = record.spending.limit?.period ?? 'month';
    const window = calendarWindow(spendPeriod, this.clock.now());
    const spentMicros = await this.spend.spent(record.accountId, record.id, window.from, window.until);
    return { record, creatorEmail, spentMicros, spendPeriod };
  }
}
