import type { Redis } from 'ioredis';
import { type AccountWindows, type LimitsReport, MINUTE_MS, reportOf } from '../domain/account-limits.js';
import type { TierLimits } from '../domain/tiers.js';
import type { EndedRequest, LimitedRequest, LimiterDecision, RateLimiter } from '../ports/rate-limiter.js';
import type { Clock } from '../ports/system.js';

/**
 * The limits of every instance together, in Redis. Each step is one Lua script, which Redis runs
 * atomically: two instances admitting for one account at the same moment never both take the last
 * unit. The scripts apply domain/account-limits.ts's arithmetic to the same state (units in use
 * scaled by the window, and when it was read), integers only, so Lua's doubles stay exact.
 *
 * Keys per account: a hash of the two windows, and a sorted set of the requests in flight scored
 * by when their lease lapses (a crashed instance's requests stop counting then). The hash tag
 * keeps both on one Redis Cluster slot. Each instance passes its own clock; a clock behind the
 * stored one drains nothing, so skew between instances can only make a limit stricter.
 */

/**
 * Shared by the scripts: drains a window's debt to `now` (see rate-window.ts), and writes a number
 * as an exact integer (Lua's own conversion keeps only 14 digits).
 */
const DRAIN = `
local function int(x) return string.format('%.0f', x) end
local function drain(debt, at, now, limit)
  if now <= at then return debt, at end
  return math.max(0, debt - (now - at) * limit), now
end
`;

/** Each key lives until its limits have drained back to full, and at least a window. */
const EXPIRE = `
local function expire(key, debts, limits, now, window)
  local ttl = window
  for i = 1, #limits do
    if limits[i] > 0 then ttl = math.max(ttl, math.ceil(debts[i] / limits[i])) end
  end
  redis.call('PEXPIRE', key, ttl + 1000)
end
`;

// KEYS: windows hash, in-flight set. ARGV: now, rpm, tpm, concurrent (0: not limited), tokens,
// lease id, lease lapses at, window ms, lease ms. Expiry is relative (PEXPIRE): Redis's own clock
// may differ from the instances'. Returns: admitted (1/0), what refused (0 none, 1 requests,
// 2 tokens, 3 concurrent), retry after ms (-1: never), request debt, request at, token debt, token
// at, requests in flight.
const ADMIT = `${DRAIN}${EXPIRE}
local now = tonumber(ARGV[1])
local rpm, tpm, concurrent = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local tokens, window = tonumber(ARGV[5]), tonumber(ARGV[8])
local state = redis.call('HMGET', KEYS[1], 'rd', 'ra', 'td', 'ta')
local rd, ra = tonumber(state[1]) or 0, tonumber(state[2]) or 0
local td, ta = tonumber(state[3]) or 0, tonumber(state[4]) or 0
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local inflight = redis.call('ZCARD', KEYS[2])
local function refuse(what, retry) return {0, what, retry, rd, ra, td, ta, inflight} end
if concurrent > 0 and inflight >= concurrent then return refuse(3, 1000) end
local nrd, nra, ntd, nta = rd, ra, td, ta
if rpm > 0 then
  nrd, nra = drain(rd, ra, now, rpm)
  local over = nrd + window - rpm * window
  if over > 0 then return refuse(1, math.ceil(over / rpm)) end
  nrd = nrd + window
end
if tpm > 0 then
  if tokens > tpm then return refuse(2, -1) end
  ntd, nta = drain(td, ta, now, tpm)
  local over = ntd + tokens * window - tpm * window
  if over > 0 then return refuse(2, math.ceil(over / tpm)) end
  ntd = ntd + tokens * window
end
redis.call('HSET', KEYS[1], 'rd', int(nrd), 'ra', int(nra), 'td', int(ntd), 'ta', int(nta))
expire(KEYS[1], {nrd, ntd}, {rpm, tpm}, now, window)
if concurrent > 0 then
  redis.call('ZADD', KEYS[2], ARGV[7], ARGV[6])
  redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[9]))
  inflight = inflight + 1
end
return {1, 0, -1, nrd, nra, ntd, nta, inflight}
`;

// KEYS: windows hash, in-flight set. ARGV: now, tpm (0: not limited), tokens delta, lease id, window ms.
const END = `${DRAIN}${EXPIRE}
redis.call('ZREM', KEYS[2], ARGV[4])
local now, tpm, delta, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[5])
if tpm == 0 or delta == 0 then return 0 end
local state = redis.call('HMGET', KEYS[1], 'td', 'ta')
local td, ta = drain(tonumber(state[1]) or 0, tonumber(state[2]) or 0, now, tpm)
td = math.max(0, td + delta * window)
redis.call('HSET', KEYS[1], 'td', int(td), 'ta', int(ta))
expire(KEYS[1], {td}, {tpm}, now, window)
return 1
`;

const EXCEEDED = [undefined, 'requests', 'tokens', 'concurrent'] as const;

/** The connection with the two scripts defined on it (ioredis adds a method per script). */
interface Scripted {
  tollgateAdmit(windows: string, inflight: string, ...args: (string | number)[]): Promise<unknown[]>;
  tollgateEnd(windows: string, inflight: string, ...args: (string | number)[]): Promise<unknown>;
}

function keysOf(accountId: string): [string, string] {
  return [`tollgate:limits:{${accountId}}`, `tollgate:limits:{${accountId}}:inflight`];
}

export class RedisRateLimiter implements RateLimiter {
  private readonly scripted: Scripted;

  constructor(
    private readonly redis: Redis,
    private readonly clock: Clock,
    /** How long a request's place counts if its instance never ends it (it crashed). */
    private readonly leaseMs: number,
  ) {
    // defineCommand sends EVALSHA, and the script itself only when Redis does not know it yet.
    if (!('tollgateAdmit' in redis)) {
      redis.defineCommand('tollgateAdmit', { numberOfKeys: 2, lua: ADMIT });
      redis.defineCommand('tollgateEnd', { numberOfKeys: 2, lua: END });
    }
    this.scripted = redis as unknown as Scripted;
  }

  async admit(request: LimitedRequest): Promise<LimiterDecision> {
    const now = this.clock.now();
    const { limits } = request;
    const reply = await this.scripted.tollgateAdmit(
      ...keysOf(request.accountId),
      now,
      limits.requestsPerMinute ?? 0,
      limits.tokensPerMinute ?? 0,
      limits.concurrentRequests ?? 0,
      request.tokens,
      request.leaseId,
      now + this.leaseMs,
      MINUTE_MS,
      this.leaseMs,
    );
    const [admitted, exceeded, retry, rd, ra, td, ta, inFlight] = reply.map(Number) as number[];
    const windows: AccountWindows = {
      requests: { debt: rd ?? 0, at: ra ?? 0 },
      tokens: { debt: td ?? 0, at: ta ?? 0 },
      inFlight: inFlight ?? 0,
    };
    const report = reportOf(limits, windows, now);
    if (admitted === 1) return { ok: true, report };
    return {
      ok: false,
      report,
      exceeded: EXCEEDED[exceeded ?? 0] ?? 'requests',
      retryAfterMs: retry === undefined || retry < 0 ? undefined : retry,
    };
  }

  async end(ended: EndedRequest): Promise<void> {
    await this.scripted.tollgateEnd(
      ...keysOf(ended.accountId),
      this.clock.now(),
      ended.limits.tokensPerMinute ?? 0,
      ended.tokensDelta,
      ended.leaseId,
      MINUTE_MS,
    );
  }

  async report(accountId: string, limits: TierLimits): Promise<LimitsReport> {
    const [windowsKey] = keysOf(accountId);
    const [rd, ra, td, ta] = await this.redis.hmget(windowsKey, 'rd', 'ra', 'td', 'ta');
    const windows: AccountWindows = {
      requests: { debt: Number(rd ?? 0), at: Number(ra ?? 0) },
      tokens: { debt: Number(td ?? 0), at: Number(ta ?? 0) },
      inFlight: 0,
    };
    return reportOf(limits, windows, this.clock.now());
  }
}
