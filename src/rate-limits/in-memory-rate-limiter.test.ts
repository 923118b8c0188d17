import { describe, expect, it } from 'vitest';
import { InMemoryRateLimiter } from './in-memory-rate-limiter.js';

describe('rate limits in one instance’s memory', () => {
  let now = 1_764_576_000_000;
  const clock = { now: () => now };
  const limits = { requestsPerMinute: 2, tokensPerMinute: 1_000, concurrentRequests: 1 };

  it('keeps a request in flight counted until it ends, or until its lease lapses', async () => {
    const limiter = new InMemoryRateLimiter(clock, 600_000);
    const request = { accountId: 'acct_x', limits, tokens: 10, leaseId: 'a' };
    expect((await limiter.admit(request)).ok).toBe(true);
    expect(await limiter.admit({ ...request, leaseId: 'b' })).toMatchObject({
      ok: false,
      exceeded: 'concurrent',
    });
    now += 600_000;
    expect((await limiter.admit({ ...request, leaseId: 'b' })).ok).toBe(true);
  });
});
