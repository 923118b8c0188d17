import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, clusterMissing, startCluster } from '../support/cluster.js';
import { PASSWORD, uniqueEmail } from '../support/dashboard-fixture.js';
import {
  cliRevoker,
  dashboardRevoker,
  measureRevocationLatency,
  type RevocationLatency,
} from '../support/revocation-latency.js';

/**
 * How long instance B keeps accepting a key revoked through instance A's dashboard or the CLI, over
 * many trials, with Redis up and with Redis killed (issue 16: under a second in both). The figures
 * are printed; docs/scaling.md records a run of them.
 */
const DASHBOARD_TRIALS = 30;
// Each CLI trial starts a process (a second or more of CPU here): fewer of them.
const CLI_TRIALS = 5;
const skip = clusterMissing();

function distribution(label: string, result: RevocationLatency): string {
  const sorted = [...result.samplesMs].sort((a, b) => a - b);
  const p95 = sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)] ?? 0;
  return `revocation, ${label}: ${result.trials} trials, median ${result.p50Ms} ms, p95 ${p95} ms, max ${result.worstMs} ms`;
}

describe.skipIf(skip)('a key revoked on one instance, as the other sees it', () => {
  let cluster: Cluster;
  let accountId: string;
  let revokeOnA: (keyId: string) => Promise<void>;
  let revokeByCli: (keyId: string) => Promise<void>;
  let database: pg.Client;

  beforeAll(async () => {
    cluster = await startCluster({ instances: 2 });
    accountId = (await cluster.seed()).accountId;
    const email = uniqueEmail('owner');
    const created = await cluster.cli(
      ['users', 'create', '--email', email, '--account', accountId, '--role', 'owner', '--password-stdin'],
      {},
      `${PASSWORD}\n`,
    );
    if (created.code !== 0) throw new Error(created.stderr);
    revokeOnA = await dashboardRevoker({
      baseUrl: cluster.instances[0]?.baseUrl ?? '',
      email,
      password: PASSWORD,
      accountId,
    });
    revokeByCli = cliRevoker(cluster.env, cluster.dir);
    database = new pg.Client({ connectionString: cluster.databaseUrl });
    await database.connect();
  });
  afterAll(async () => {
    await database?.end();
    await cluster?.stop();
  });

  const observerUrl = () => cluster.instances[1]?.baseUrl ?? '';
  const newKey = () =>
    cluster.services(async ({ keys }) => {
      const created = await keys.create(accountId, 'revocation', 'inference');
      if (!created.ok) throw new Error(created.error);
      return { key: created.value.key, keyId: created.value.record.id };
    });
  // The CLI's commit, not its exit a second later, is when the revocation took effect.
  const revokedAt = async (keyId: string) => {
    const { rows } = await database.query('SELECT revoked_at::text AS at FROM api_keys WHERE id = $1', [
      keyId,
    ]);
    return Number(rows[0]?.at);
  };

  const measure = async (label: string) => {
    const dashboard = await measureRevocationLatency({
      observerUrl: observerUrl(),
      newKey,
      revoke: revokeOnA,
      trials: DASHBOARD_TRIALS,
    });
    const cli = await measureRevocationLatency({
      observerUrl: observerUrl(),
      newKey,
      revoke: revokeByCli,
      effectiveAt: revokedAt,
      trials: CLI_TRIALS,
    });
    console.log(distribution(`${label}, through A's dashboard`, dashboard));
    console.log(distribution(`${label}, through the CLI`, cli));
    expect(dashboard.worstMs).toBeLessThan(1_000);
    expect(cli.worstMs).toBeLessThan(1_000);
  };

  it('is refused by B within a second with Redis up', () => measure('Redis up'), 300_000);

  it('is refused by B within a second with Redis down', async () => {
    await cluster.redis.kill();
    try {
      // The instances notice within half a second; give them more on a busy machine.
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      await measure('Redis down');
    } finally {
      await cluster.redis.restart();
    }
  }, 300_000);
});

if (skip) console.log(`revocation across instances skipped: ${skip}`);
