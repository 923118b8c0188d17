import path from 'node:path';
import { openClusterLinks } from '../cluster/cluster-links.js';
import { type Config, loadConfig, resolveConfigPath } from '../config/load-config.js';
import { requireKeySecret, withEnvFile } from '../config/secrets.js';
import { HmacKeyHasher } from '../crypto/hmac-key-hasher.js';
import { cryptoRandom, newId, systemClock } from '../crypto/system.js';
import type { DashboardServices } from '../dashboard-services.js';
import { blockListAllowlists } from '../net/ip-allowlist.js';
import type { Change } from '../ports/change-feed.js';
import type { Ledger } from '../ports/ledger.js';
import { postgresLedger } from '../request-path-stores.js';
import { AccountService } from '../services/accounts.js';
import { ApiKeyService } from '../services/api-keys.js';
import { BalanceReader } from '../services/billing/balances.js';
import { PlanCatalogue } from '../services/billing/plan-catalogue.js';
import { TierAssignment } from '../services/limits/tier-assignment.js';
import { TierCatalogue } from '../services/limits/tier-catalogue.js';
import { SubscriptionService } from '../services/subscriptions.js';
import { DataVersionWatch } from '../store/data-version-watch.js';
import { KyselyAccountStore } from '../store/kysely-accounts.js';
import { KyselyAuditLog } from '../store/kysely-audit.js';
import { KyselyKeySpend, KyselyKeyStore } from '../store/kysely-keys.js';
import { KyselySessionStore } from '../store/kysely-sessions.js';
import { KyselySubscriptionStore } from '../store/kysely-subscriptions.js';
import { type OpenDatabase, openDatabase } from '../store/open-database.js';
import { SqliteLedger } from '../store/sqlite-ledger.js';

export interface GlobalOptions {
  readonly config?: string;
  readonly json?: boolean;
}

/** The env file `tollgate init` writes; the real environment always takes precedence over it. */
export function envFilePath(env: NodeJS.ProcessEnv): string {
  return path.resolve(env.TOLLGATE_ENV_FILE ?? 'data/tollgate.env');
}

export function cliEnv(): NodeJS.ProcessEnv {
  return withEnvFile(process.env, envFilePath(process.env));
}

/** Only what an operator must act on reaches stderr; the command's own output stays clean. */
const cliLog = {
  info: () => {},
  warn: (_details: Record<string, unknown>, message: string) => process.stderr.write(`warning: ${message}\n`),
  error: (_details: Record<string, unknown>, message: string) => process.stderr.write(`error: ${message}\n`),
};

export function cliConfig(options: GlobalOptions, env: NodeJS.ProcessEnv): Config {
  return loadConfig(resolveConfigPath(options.config, env, process.cwd()), env);
}

/**
 * The CLI's ledger. On PostgreSQL it shares the database with the instances serving and, placing
 * no hold, never registers as an instance.
 */
export function cliLedger(database: OpenDatabase): Ledger {
  if (database.kind === 'sqlite')
    return new SqliteLedger(database.sqlite, new DataVersionWatch(database.sqlite), (prefix) =>
      newId(prefix),
    );
  return postgresLedger(
    database,
    (prefix) => newId(prefix),
    { error: (details, message) => console.error(message, details) },
    { instanceId: newId('cli'), timings: { timeoutMs: 30_000, longestRequestMs: 0 } },
  );
}

/**
 * Opens the same database the server uses (SQLite's WAL, or PostgreSQL, lets both write), runs
 * `work`, then closes it.
 */
export async function withServices<T>(
  options: GlobalOptions,
  work: (services: {
    accounts: AccountService;
    keys: () => ApiKeyService;
    /** Users, invites and sessions; links are built from server.public_url. Loaded on first use. */
    dashboard: () => Promise<DashboardServices>;
    subscriptions: SubscriptionService;
    balances: BalanceReader;
    plans: PlanCatalogue;
    tiers: TierAssignment;
    config: Config;
    db: OpenDatabase['db'];
  }) => Promise<T>,
): Promise<T> {
  const env = cliEnv();
  const config = cliConfig(options, env);
  const database = await openDatabase(config.database);
  let dashboard: DashboardServices | undefined;
  // The CLI's changes reach running servers through the feed (Redis, or NOTIFY on PostgreSQL).
  const cluster = openClusterLinks({
    redisUrl: config.redisUrl,
    postgresUrl: config.database.kind === 'postgres' ? config.database.url : undefined,
    postgresPool: database.kind === 'postgres' ? database.pg : undefined,
    instanceId: config.cluster.instanceId ?? newId('cli'),
    role: 'cli',
    log: cliLog,
    metrics: undefined,
  });
  const announce = (change: Change) => cluster.feed.publish(change);
  try {
    const accountStore = new KyselyAccountStore(database.db);
    const ledger = cliLedger(database);
    const id = (prefix: string) => newId(prefix);
    // A suspension from the CLI ends the account's members' dashboard sessions too.
    const accounts = new AccountService(accountStore, ledger, systemClock, id, announce, (accountId) =>
      new KyselySessionStore(database.db).deleteOfAccountMembers(accountId),
    );
    const auditLog = new KyselyAuditLog(database.db, () => systemClock.now(), id);
    // Only creating a key needs the HMAC secret, so it is asked for on first use: listing and revoking work without it.
    let hasher: HmacKeyHasher | undefined;
    const secretHasher = () => {
      hasher ??= new HmacKeyHasher(requireKeySecret(env));
      return hasher;
    };
    const lazyHasher = {
      hash: (key: string) => secretHasher().hash(key),
      equal: (a: string, b: string) => secretHasher().equal(a, b),
    };
    const keys = () =>
      new ApiKeyService(
        config.brand,
        accountStore,
        new KyselyKeyStore(database.db),
        lazyHasher,
        cryptoRandom,
        systemClock,
        id,
        blockListAllowlists,
        auditLog,
        announce,
      );
    // Imported when a command needs it: the other commands start faster without the dashboard's modules.
    const dashboardOf = async () => {
      const { dashboardServices, localPublicUrl, sessionService } = await import('../dashboard-services.js');
      dashboard ??= dashboardServices({
        db: database.db,
        config,
        env,
        clock: systemClock,
        newId: id,
        accounts,
        accountStore,
        keys: keys(),
        auditLog,
        spend: new KyselyKeySpend(database.db),
        sessions: sessionService(database.db, config, systemClock),
        publicUrl: () => config.server.publicUrl ?? localPublicUrl(config),
        onMailError: () => {},
      });
      return dashboard;
    };
    const plans = new PlanCatalogue(config.plans);
    const subscriptions = new SubscriptionService(
      plans,
      accountStore,
      new KyselySubscriptionStore(database.db, database.kind),
      systemClock,
      (prefix) => newId(prefix),
      announce,
    );
    const balances = new BalanceReader(ledger, plans, systemClock);
    return await work({
      accounts,
      keys,
      dashboard: dashboardOf,
      subscriptions,
      balances,
      plans,
      tiers: new TierAssignment(new TierCatalogue(config.tiers), accountStore, announce),
      config,
      db: database.db,
    });
  } finally {
    dashboard?.close();
    await cluster.close();
    await database.close();
  }
}
