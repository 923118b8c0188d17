import { expect, it } from 'vitest';
import { describeStores } from '../../test/support/stores.js';
import { KyselyRateCounters } from './kysely-rate-counters.js';

describeStores('the rate counters', (database) => {
  const counters = () => new KyselyRateCounters(database().db);

  it('count within a window and start again after it', async () => {
    expect(await counters().increment('login:ada', 1_000, 10_000)).toEqual({ count: 1, resetsAt: 11_000 });
    expect(await counters().increment('login:ada', 1_000, 10_500)).toEqual({ count: 2, resetsAt: 11_000 });
    expect(await counters().read('login:ada', 10_600)).toEqual({ count: 2, resetsAt: 11_000 });
    expect(await counters().read('login:ada', 11_000)).toEqual({ count: 0, resetsAt: 11_000 });
    expect(await counters().increment('login:ada', 1_000, 11_000)).toEqual({ count: 1, resetsAt: 12_000 });
    expect(await counters().read('login:bob', 11_000)).toEqual({ count: 0, resetsAt: 11_000 });
  });

  it('count every one of many simultaneous attempts, as instances sharing the database would', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, () => counters().increment('login:ada', 60_000, 10_000)),
    );
    expect(results.map((r) => r.count).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
  });

  it('are reset on demand and swept once their window ended', async () => {
    await counters().increment('a', 1_000, 10_000);
    await counters().increment('b', 5_000, 10_000);
    await counters().increment('c', 1_000, 10_000);
    await counters().reset('c');
    expect(await counters().read('c', 10_001)).toEqual({ count: 0, resetsAt: 10_001 });
    expect(await counters().deleteExpired(11_000)).toBe(1);
    expect(await counters().read('b', 11_000)).toEqual({ count: 1, resetsAt: 15_000 });
  });
});
