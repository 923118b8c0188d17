import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AccountAudit, auditAccount, type BankAccount } from '../support/bank-audit.js';
import { askBank } from '../support/bank-client.js';
import { type Cluster, clusterMissing, startCluster } from '../support/cluster.js';

/**
 * A bank test in the manner of Jepsen: clients spend from a few small accounts through three
 * instances while credits arrive and instances are killed with SIGKILL and restarted. Once the dead
 * instances' holds have gone back (cluster.instance_timeout_seconds is short here), every account
 * must add up exactly against what the upstream reported for the answers the clients received.
 */
const INSTANCES = 3;
const ACCOUNTS = 4;
const CLIENTS = 6;
const KILLS = 3;
const MAX_TOKENS = 10;
// About five requests' worth: accounts run dry, and credits arriving mid-flight are raced for.
const START_MICROS = 50_000;
// Every half second: about as much as the clients can spend, so that some of them are refused.
const CREDIT_EVERY_MS = 500;
const CREDIT_MICROS = 100_000;
const CLI_CREDITS = 2;

const skip = clusterMissing();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(skip)('money across instances that crash', () => {
  let cluster: Cluster;
  const accounts: BankAccount[] = [];

  beforeAll(async () => {
    cluster = await startCluster({
      instances: INSTANCES,
      // Slow enough that kills land on requests in flight, streamed or not.
      upstream: { firstByteDelayMs: 80, chunkIntervalMs: 25, replyTokens: 12 },
      providerYaml: '    timeouts: { first_byte_ms: 3000, idle_ms: 3000, total_ms: 3000 }',
      // Short, so that the dead instances' holds come back soon; not so short that a live instance
      // on this busy machine misses its own heartbeats (it then refuses to admit).
      // Credit leases of about one request: taken when an account is busy on an instance and has
      // room for six, swept back like holds when their instance is killed.
      clusterYaml: '  instance_timeout_seconds: 4\n  lease_micros: 11000',
    });
    for (let i = 0; i < ACCOUNTS; i++) {
      const seeded = await cluster.seed({ usd: (START_MICROS / 1_000_000).toFixed(6) });
      accounts.push({ accountId: seeded.accountId, key: seeded.key, credits: START_MICROS, outcomes: [] });
    }
  });
  afterAll(() => cluster?.stop());

  it('keeps every balance equal to credits minus what answered requests cost', async () => {
    let running = true;
    let sent = 0;
    const clients = Array.from({ length: CLIENTS }, async (_, client) => {
      while (running) {
        const account = accounts[(client + sent) % ACCOUNTS] as BankAccount;
        const tag = `r${++sent}`;
        const outcome = await askBank(cluster.fetch, {
          key: account.key,
          tag,
          stream: sent % 2 === 0,
          maxTokens: MAX_TOKENS,
        });
        account.outcomes.push({ tag, outcome });
        if (outcome.kind !== 'answered') await sleep(25);
      }
    });
    let credited = 0;
    const credits = (async () => {
      for (let i = 0; running; i++) {
        await sleep(CREDIT_EVERY_MS);
        const account = accounts[i % ACCOUNTS] as BankAccount;
        const usd = (CREDIT_MICROS / 1_000_000).toFixed(6);
        if (i % 10 === 5 && i / 10 < CLI_CREDITS) {
          const result = await cluster.cli(['credits', 'add', account.accountId, '--usd', usd]);
          expect(result.code, result.stderr).toBe(0);
        } else {
          await cluster.services(async ({ accounts: service }) => {
            const added = await service.addCredits(account.accountId, CREDIT_MICROS, 'bank test');
            if (!added.ok) throw new Error(added.error);
          });
        }
        account.credits += CREDIT_MICROS;
        credited++;
      }
    })();
    let kills = 0;
    const began = Date.now();
    const leases = countLeases(cluster.databaseUrl, () => running);
    try {
      for (let round = 0; round < KILLS; round++) {
        await sleep(4_000);
        const victim = round % INSTANCES;
        await cluster.kill(victim);
        kills++;
        await sleep(1_000);
        await cluster.restart(victim);
      }
      await sleep(3_000);
    } finally {
      running = false;
      await Promise.all([...clients, credits]);
    }
    const leasesSeen = await leases;

    const trafficSeconds = (Date.now() - began) / 1000;
    // The killed instances' holds go back once their heartbeats are older than the timeout, the
    // longest request they could have been serving, and the leases' margin (a minute).
    const deadline = Date.now() + 150_000;
    let problems = await cluster.reconcile();
    while (problems.length > 0 && Date.now() < deadline) {
      await sleep(1_000);
      problems = await cluster.reconcile();
    }
    expect(problems).toEqual([]);
    const reclaimSeconds = (Date.now() - began) / 1000 - trafficSeconds;

    const audits: AccountAudit[] = [];
    for (const account of accounts)
      audits.push(await auditAccount(cluster.databaseUrl, account, cluster.upstream.reported));
    const refusals = new Map<string, number>();
    for (const account of accounts)
      for (const { outcome } of account.outcomes) {
        if (outcome.kind !== 'refused') continue;
        const what = `${outcome.status} ${outcome.code}`;
        refusals.set(what, (refusals.get(what) ?? 0) + 1);
      }
    const total = (field: keyof Omit<AccountAudit, 'accountId' | 'problems'>) =>
      audits.reduce((sum, a) => sum + a[field], 0);
    console.log(
      `bank: ${sent} requests over ${INSTANCES} instances, ${total('answered')} answered, ` +
        `${total('refused')} refused (${[...refusals].map(([what, n]) => `${n}× ${what}`).join(', ')}), ` +
        `${total('indeterminate')} indeterminate ` +
        `(${total('chargedUnanswered')} of them charged), ${kills} kills, ${credited} credits; ` +
        `${trafficSeconds.toFixed(0)} s of traffic, ${reclaimSeconds.toFixed(0)} s until every hold was back; ` +
        `${leasesSeen} credit leases seen`,
    );
    expect(audits.flatMap((a) => a.problems)).toEqual([]);
    expect(total('answered')).toBeGreaterThan(0);
    // Accounts ran dry: the refusals were raced for the credits arriving.
    expect(refusals.get('402 insufficient_quota')).toBeGreaterThan(0);
  }, 300_000);
});

/** How many distinct credit leases the instances took while `running` (sampled every 100 ms). */
async function countLeases(databaseUrl: string, running: () => boolean): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const seen = new Set<string>();
  try {
    while (running()) {
      const { rows } = await client.query<{ id: string }>(
        'SELECT id FROM ledger_holds WHERE lease_state IS NOT NULL',
      );
      for (const row of rows) seen.add(row.id);
      await sleep(100);
    }
  } finally {
    await client.end();
  }
  return seen.size;
}

if (skip) console.log(`bank test skipped: ${skip}`);
