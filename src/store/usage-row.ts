import type { Micros } from '../domain/money.js';
import type { Pool } from '../domain/waterfall.js';
import type { UsageFacts } from '../ports/ledger.js';
import { integer, text } from './row-values.js';

/**
 * The row as written, each value valid for its column (row-values.ts): the cost and pools come
 * apart, so that the record is not copied to change them.
 */
export function usageRow(
  u: UsageFacts,
  costMicros: Micros,
  pools: Partial<Record<Pool, Micros>>,
  overHold: boolean,
): unknown[] {
  return [
    text(u.requestId),
    text(u.accountId),
    text(u.keyId),
    text(u.basePath),
    text(u.model),
    text(u.providerId),
    text(u.upstreamModel),
    integer(u.promptTokens),
    integer(u.completionTokens),
    text(u.usageSource),
    integer(costMicros),
    JSON.stringify(pools),
    integer(u.status),
    integer(u.latencyMs),
    text(u.clientIp),
    text(u.userAgent),
    integer(u.createdAt),
    integer(u.cacheReadTokens ?? 0),
    integer(u.cacheWriteTokens ?? 0),
    overHold ? 1 : 0,
    text(u.outcome),
  ];
}
