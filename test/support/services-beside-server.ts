import { cliLedger } from '../../src/cli/context.js';
import type { Config } from '../../src/config/load-config.js';
import { HmacKeyHasher } from '../../src/crypto/hmac-key-hasher.js';
import { cryptoRandom, newId, systemClock } from '../../src/crypto/system.js';
import type { KeyType } from '../../src/domain/api-key.js';
import { type KeySpending, PREPAID_SPENDING } from '../../src/domain/key-spending.js';
import { parseUsd } from '../../src/domain/money.js';
import { blockListAllowlists } from '../../src/net/ip-allowlist.js';
import type { Ledger } from '../../src/ports/ledger.js';
import { AccountService } from '../../src/services/accounts.js';
import { ApiKeyService } from '../../src/services/api-keys.js';
import { BalanceReader } from '../../src/services/billing/balances.js';
import { PlanCatalogue } from '../../src/services/billing/plan-catalogue.js';
import { SubscriptionService } from '../../src/services/subscriptions.js';
import { KyselyAccountStore } from '../../src/store/kysely-accounts.js';
import { KyselyAuditLog } from '../../src/store/kysely-audit.js';
import { KyselyKeyStore } from '../../src/store/kysely-keys.js';
import { KyselySessionStore } from '../../src/store/kysely-sessions.js';
import { KyselySubscriptionStore } from '../../src/store/kysely-subscriptions.js';
import { openDatabase } from '../../src/store/open-database.js';
import { TEST_KEY_SECRET } from './harness.js';

/**
 * The services the `tollgate` CLI opens on the database a `tollgate serve` process is serving,
 * run inside the test process. Tests whose subject is not the CLI seed accounts and read balances
 * through them: one CLI process costs a second or more of CPU on a busy machine, this costs a few
 * milliseconds, and the server sees the writes exactly as it sees the CLI's (another connection's
 * commit). Like the CLI, each use opens its own connection and closes it, so no cache outlives it.
 */
export interface ServicesBesideServer {
  readonly accounts: AccountService;
  readonly keys: ApiKeyService;
  readonly subscriptions: SubscriptionService;
  readonly balances: BalanceReader;
  /** The ledger as the CLI opens it: its entries are what the server wrote. */
  readonly ledger: Ledger;
}

export async function withServicesBesideServer<T>(
  config: Config,
  work: (services: ServicesBesideServer) => Promise<T>,
): Promise<T> {
  const database = await openDatabase(config.database);
  try {
    const id = (prefix: string) => newId(prefix);
    const accountStore = new KyselyAccountStore(database.db);
    const ledger = cliLedger(database);
    const plans = new PlanCatalogue(config.plans);
    return await work({
      accounts: new AccountService(accountStore, ledger, systemClock, id, undefined, (accountId) =>
        new KyselySessionStore(database.db).deleteOfAccountMembers(accountId),
      ),
      keys: new ApiKeyService(
        config.brand,
        accountStore,
        new KyselyKeyStore(database.db),
        new HmacKeyHasher(TEST_KEY_SECRET),
        cryptoRandom,
        systemClock,
        id,
        blockListAllowlists,
        new KyselyAuditLog(database.db, () => systemClock.now(), id),
      ),
      subscriptions: new SubscriptionService(
        plans,
        accountStore,
        new KyselySubscriptionStore(database.db, database.kind),
        systemClock,
        id,
      ),
      balances: new BalanceReader(ledger, plans, systemClock),
      ledger,
    });
  } finally {
    await database.close();
  }
}

export interface SeedAccountOptions {
  /** Prepaid credit, in dollars; none by default. */
  readonly usd?: string;
  readonly plans?: readonly string[];
  readonly email?: string;
}

let seeded = 0;

/** A new account, with credit and subscriptions if asked; returns its id. */
export function seedAccount(config: Config, options: SeedAccountOptions = {}): Promise<string> {
  return withServicesBesideServer(config, async ({ accounts, subscriptions }) => {
    const account = await accounts.create(options.email ?? `seeded${++seeded}-${process.pid}@example.com`);
    if (!account.ok) throw new Error(account.error);
    if (options.usd !== undefined) {
      const usd = parseUsd(options.usd);
      if (usd === undefined) throw new Error(`bad usd ${options.usd}`);
      const credited = await accounts.addCredits(account.value.id, usd, 'test credit');
      if (!credited.ok) throw new Error(credited.error);
    }
    for (const plan of options.plans ?? []) {
      const subscribed = await subscriptions.set(account.value.id, plan);
      if (!subscribed.ok) throw new Error(subscribed.error);
    }
    return account.value.id;
  });
}

export interface SeedKeyOptions {
  readonly name?: string;
  readonly type?: KeyType;
  readonly spending?: KeySpending;
}

/** A new key of the account; returns its id and the secret key, as `keys create` prints them. */
export function seedKey(
  config: Config,
  accountId: string,
  options: SeedKeyOptions = {},
): Promise<{ id: string; key: string }> {
  return withServicesBesideServer(config, async ({ keys }) => {
    const created = await keys.create(
      accountId,
      options.name ?? 'test key',
      options.type ?? 'inference',
      options.spending ?? PREPAID_SPENDING,
    );
    if (!created.ok) throw new Error(created.error);
    return { id: created.value.record.id, key: created.value.key };
  });
}

/** The account's prepaid balance and what its inference subscription has left, in micro-USD. */
export function balancesOf(
  config: Config,
  accountId: string,
): Promise<{ prepaid: number; subscriptionRemaining: number | undefined }> {
  return withServicesBesideServer(config, async ({ accounts, subscriptions, balances }) => {
    const account = await accounts.find(accountId);
    if (!account) throw new Error(`no account ${accountId}`);
    const live = await subscriptions.live(accountId);
    if (!live.ok) throw new Error(live.error);
    const shown = await balances.of(accountId, live.value);
    return { prepaid: account.availableMicros, subscriptionRemaining: shown.subscription?.remaining };
  });
}
