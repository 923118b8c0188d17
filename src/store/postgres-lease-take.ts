import { sliceOf } from '../domain/lease-fit.js';
import { type PoolUsage, roomOf } from '../domain/spend-scope.js';
import type { HoldToPlace } from '../ports/ledger.js';
import { LEASE_GROW } from './postgres-lease-sql.js';
import {
  type DirectResult,
  type LeaseRequest,
  type LeaseSettings,
  leaseParts,
  type Run,
} from './postgres-leases.js';
import { PLACE_HOLD } from './postgres-ledger-sql.js';
import { integer } from './row-values.js';

/**
 * In the transaction that placed `hold`, under the account's lock: adds a slice of the scope's room
 * (what `after` leaves, the hold counted) to the scope's open lease, or takes a new lease, when the
 * domain's rule allows one (domain/lease-fit.ts sliceOf). A lease is placed as a hold row of the
 * instance with the same tally moves, so every instance and the sweeper count it.
 */
export async function takeSlice(
  run: Run,
  taking: { hold: HoldToPlace; after: PoolUsage; lease: LeaseRequest; instanceId: string },
  settings: LeaseSettings,
  newId: (prefix: string) => string,
): Promise<DirectResult['slice']> {
  const { hold, after, lease } = taking;
  const { scope } = hold;
  const slice = sliceOf(roomOf(scope, after), settings.micros, settings.instances);
  if (!slice) return undefined;
  const { primary, prepaid } = slice.parts;
  const amount = primary + prepaid;
  if (lease.lease?.open) {
    const grown = await run({
      ...LEASE_GROW,
      values: [lease.lease.id, scope.accountId, scope.keyId, amount, prepaid, primary, lease.lease.placedAt],
    });
    return { parts: slice, id: lease.lease.id, grown: (grown.rowCount ?? 0) > 0 };
  }
  const id = newId('lease');
  await run({
    ...PLACE_HOLD,
    values: [
      id,
      scope.accountId,
      scope.keyId,
      taking.instanceId,
      integer(hold.now),
      amount,
      prepaid,
      scope.primary?.pool === 'subscription' ? primary : null,
      null,
      JSON.stringify(leaseParts(scope, slice.parts)),
      JSON.stringify(scope),
      amount,
      prepaid,
      primary,
      0,
      0,
      'open',
    ],
  });
  return { parts: slice, id, grown: true };
}
