import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, clusterMissing, startCluster } from '../support/cluster.js';
import { raceWaterfallPath, WATERFALL_PATHS, WATERFALL_PLANS } from '../support/waterfall-race.js';

/**
 * The waterfall race of test/e2e, with the 100 requests spread round-robin over two instances on
 * one PostgreSQL and one Redis: each pool still admits exactly what it covers, and the ledger
 * every instance wrote reconciles. Then again with credit leases of 25,000 micro-USD, about two
 * and a half holds: both instances lease while the room is large, hold against their slices, and
 * the last requests are admitted only if the slices' unused remainders are recalled.
 */
const skip = clusterMissing();

describe.skipIf(skip).each([
  { leases: 'credit leases off', leaseMicros: 0 },
  { leases: 'credit leases of 25,000 micro-USD', leaseMicros: 25_000 },
])('every waterfall path raced over two instances ($leases)', ({ leaseMicros }) => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster({
      instances: 2,
      clusterYaml: `  lease_micros: ${leaseMicros}`,
      // Two processes admit 100 requests on a busy machine: no answer may settle (and free its
      // hold's unused part) before the last request has been admitted or refused.
      upstream: { firstByteDelayMs: 4_000 },
      extraYaml: WATERFALL_PLANS,
    });
  });
  afterAll(async () => {
    const problems = await cluster?.reconcile();
    await cluster?.stop();
    if (problems && problems.length > 0)
      throw new Error(`the ledger does not reconcile:\n${problems.join('\n')}`);
  });

  for (const stream of [false, true]) {
    it.each(WATERFALL_PATHS)(
      `admits only what $name covers, never overspends a pool (stream: ${stream})`,
      async (path) => {
        const before = [...cluster.dispatched];
        const watch = leaseMicros > 0 ? watchLocalHolds(cluster) : undefined;
        try {
          await raceWaterfallPath(cluster, path, stream);
        } finally {
          await watch?.stop();
        }
        // Round-robin: each instance took half of the race.
        expect(cluster.dispatched.map((n, i) => n - (before[i] ?? 0))).toEqual([50, 50]);
        // Leases were used where the scope's pools are all money; a Pro chat quota never leases.
        if (watch) expect(watch.heldLocally() > 0).toBe(path.type === 'inference');
      },
    );
  }
});

/**
 * Samples, while a race runs, how many admitted requests (those the upstream received, answering
 * after its delay) have no hold row of their own: they were held against a lease, in memory. Only
 * within the upstream's delay, before any answer settles and deletes its hold.
 */
function watchLocalHolds(cluster: Cluster): { heldLocally(): number; stop(): Promise<void> } {
  const client = new pg.Client({ connectionString: cluster.databaseUrl });
  const receivedBefore = cluster.upstream.received.length;
  let most = 0;
  let running = true;
  const until = performance.now() + 3_500;
  const sampling = (async () => {
    await client.connect();
    while (running && performance.now() < until) {
      const received = cluster.upstream.received.length - receivedBefore;
      const { rows } = await client.query<{ n: number }>(
        'SELECT COUNT(*)::int AS n FROM ledger_holds WHERE lease_state IS NULL',
      );
      most = Math.max(most, received - rows[0]!.n);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await client.end();
  })();
  return {
    heldLocally: () => most,
    stop: async () => {
      running = false;
      await sampling;
    },
  };
}

if (skip) console.log(`cluster waterfall skipped: ${skip}`);
