import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, clusterMissing, startCluster } from '../support/cluster.js';
import { raceWaterfallPath, WATERFALL_PATHS, WATERFALL_PLANS } from '../support/waterfall-race.js';

/**
 * The waterfall race of test/e2e, with the 100 requests spread round-robin over two instances on
 * one PostgreSQL and one Redis: each pool still admits exactly what it covers, and the ledger
 * every instance wrote reconciles.
 */
const skip = clusterMissing();

describe.skipIf(skip)('every waterfall path raced over two instances', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster({
      instances: 2,
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
        await raceWaterfallPath(cluster, path, stream);
        // Round-robin: each instance took half of the race.
        expect(cluster.dispatched.map((n, i) => n - (before[i] ?? 0))).toEqual([50, 50]);
      },
    );
  }
});

if (skip) console.log(`cluster waterfall skipped: ${skip}`);
