import { expect, it } from 'vitest';
import {
  TEST_ACCOUNT as ACCOUNT,
  charge,
  creditTestAccount,
  testScope as scope,
  usageFacts,
} from '../../test/support/ledger-fixture.js';
import { describeLedgers, refusePoisonedRecords } from '../../test/support/ledger-kinds.js';
import { newId } from '../crypto/system.js';
import type { Ledger, UsageFacts } from '../ports/ledger.js';

async function hold(ledger: Ledger, amount: number): Promise<string> {
  const id = newId('hold');
  const outcome = await ledger.placeHold({ id, requestId: newId('req'), scope, now: Date.now() }, () => [
    { pool: 'prepaid', amount },
  ]);
  expect(outcome).toBe('placed');
  return id;
}

describeLedgers('Ledger', (under) => {
  const db = () => under().database.db;
  const balance = async () =>
    (
      await db()
        .selectFrom('accounts')
        .select('available_micros')
        .where('id', '=', ACCOUNT)
        .executeTakeFirstOrThrow()
    ).available_micros;
  const entrySum = async () =>
    Number(
      (
        await db()
          .selectFrom('ledger_entries')
          .select((eb) => eb.fn.sum<number>('amount_micros').as('s'))
          .where('account_id', '=', ACCOUNT)
          .where('pool', '=', 'prepaid')
          .executeTakeFirstOrThrow()
      ).s,
    );
  const record = (requestId: string) =>
    db()
      .selectFrom('usage_records')
      .select(['cost_micros', 'pools', 'over_hold'])
      .where('request_id', '=', requestId)
      .executeTakeFirst();
  const recorded = async () =>
    (await db().selectFrom('usage_records').select('request_id').execute()).map((r) => r.request_id).sort();

  it('answers a settlement once its entries, balance and usage record can be read', async () => {
    const { ledger } = under();
    await creditTestAccount(ledger, 1_000_000);
    const holdId = await hold(ledger, 1_000);
    await ledger.settle(holdId, charge(600), usageFacts('req_one'));
    expect(await balance()).toBe(999_400);
    expect(await recorded()).toEqual(['req_one']);
    const kinds = (await ledger.entries(ACCOUNT)).filter((e) => e.holdId === holdId).map((e) => e.kind);
    expect(kinds).toEqual(['hold', 'settle', 'release']);
  });

  it('keeps what a hold takes out of the available credit until it is settled or released', async () => {
    const { ledger } = under();
    await creditTestAccount(ledger, 10_000);
    const first = await hold(ledger, 4_000);
    const second = await hold(ledger, 5_000);
    expect(await ledger.available(ACCOUNT)).toBe(1_000);
    const refused = await ledger.placeHold(
      { id: newId('hold'), requestId: 'r', scope, now: Date.now() },
      (usage) => (usage.prepaidAvailable >= 2_000 ? [{ pool: 'prepaid', amount: 2_000 }] : undefined),
    );
    expect(refused).toBe('refused');
    expect(await ledger.release(first, undefined, Date.now())).toBe(true);
    expect(await ledger.release(first, undefined, Date.now())).toBe(false);
    await ledger.settle(second, charge(5_000), usageFacts('req_second'));
    expect(await ledger.available(ACCOUNT)).toBe(5_000);
    expect(await ledger.available('acct_nobody')).toBeUndefined();
  });

  it('charges all of a charge above the hold, taking the balance below zero, and marks the record', async () => {
    const { ledger } = under();
    await creditTestAccount(ledger, 10_000);
    const holdId = await hold(ledger, 8_000);
    const settlement = await ledger.settle(holdId, charge(25_000), usageFacts('req_over'));
    expect(settlement).toEqual({
      holdWasOpen: true,
      charged: [{ pool: 'prepaid', amount: 25_000 }],
      heldMicros: 8_000,
    });
    under().settled();
    expect(await balance()).toBe(10_000 - 25_000);
    expect(await entrySum()).toBe(await balance());
    expect(await ledger.available(ACCOUNT)).toBe(-15_000);
    expect(await record('req_over')).toEqual({
      cost_micros: 25_000,
      pools: '{"prepaid":25000}',
      over_hold: 1,
    });
  });

  it('marks a settlement within its hold as not over it', async () => {
    const { ledger } = under();
    await creditTestAccount(ledger, 10_000);
    await ledger.settle(await hold(ledger, 8_000), charge(8_000), usageFacts('req_within'));
    under().settled();
    expect((await record('req_within'))?.over_hold).toBe(0);
  });

  it('charges a settlement whose hold is no longer open to prepaid credit, and records it', async () => {
    const { ledger } = under();
    await creditTestAccount(ledger, 10_000);
    const holdId = await hold(ledger, 3_000);
    expect(await ledger.release(holdId, undefined, Date.now())).toBe(true);
    const settlement = await ledger.settle(holdId, charge(2_000), usageFacts('req_late'));
    expect(settlement).toEqual({
      holdWasOpen: false,
      charged: [{ pool: 'prepaid', amount: 2_000 }],
      heldMicros: 0,
    });
    under().settled();
    expect(await balance()).toBe(8_000);
    expect(await entrySum()).toBe(8_000);
    expect(await recorded()).toEqual(['req_late']);
  });

  it('lets the next credits pay a debt first', async () => {
    const { ledger } = under();
    await creditTestAccount(ledger, 10_000);
    await ledger.settle(await hold(ledger, 10_000), charge(30_000), usageFacts('req_debt'));
    await creditTestAccount(ledger, 5_000);
    expect(await ledger.available(ACCOUNT)).toBe(-15_000);
    await creditTestAccount(ledger, 20_000);
    expect(await ledger.available(ACCOUNT)).toBe(5_000);
    under().settled();
    expect(await balance()).toBe(5_000);
    expect(await entrySum()).toBe(5_000);
  });

  it('refuses a credit that is not a positive whole amount: nothing but usage makes a debt', async () => {
    const { ledger } = under();
    await creditTestAccount(ledger, 10_000);
    for (const amount of [0, -1, 1.5, Number.NaN]) {
      await expect(
        ledger.credit({ id: newId('led'), accountId: ACCOUNT, amount, note: 'x', now: Date.now() }),
      ).rejects.toThrow(RangeError);
    }
    expect(await ledger.available(ACCOUNT)).toBe(10_000);
    expect(
      await ledger.credit({ id: newId('led'), accountId: 'acct_nobody', amount: 5, note: 'x', now: 1 }),
    ).toBe(false);
  });

  it('refuses a settlement decision it cannot write before changing anything, leaving the hold to release', async () => {
    const { ledger } = under();
    await creditTestAccount(ledger, 10_000);
    const holdId = await hold(ledger, 1_000);
    await expect(
      ledger.settle(holdId, () => [{ pool: 'prepaid', amount: 10.5 }], usageFacts('r')),
    ).rejects.toThrow(/whole micro-USD/);
    await expect(
      ledger.settle(holdId, () => [{ pool: 'subscription', amount: 10 }], usageFacts('r')),
    ).rejects.toThrow(/held pools in order/);
    expect(await ledger.available(ACCOUNT)).toBe(9_000);
    expect(await ledger.release(holdId, undefined, Date.now())).toBe(true);
    expect(await ledger.available(ACCOUNT)).toBe(10_000);
  });

  it('writes a record whose facts are missing or not numbers, rather than failing', async () => {
    const { ledger } = under();
    await creditTestAccount(ledger, 1_000_000);
    const holds = [await hold(ledger, 1_000), await hold(ledger, 1_000)];
    const broken = {
      ...usageFacts('req_broken'),
      userAgent: undefined,
      clientIp: null,
      promptTokens: Number.NaN,
      latencyMs: Number.POSITIVE_INFINITY,
      status: 200.4,
    } as unknown as UsageFacts;
    await Promise.all([
      ledger.settle(holds[0]!, charge(500), broken),
      ledger.settle(holds[1]!, charge(500), usageFacts('req_fine')),
    ]);
    under().settled();
    expect(await recorded()).toEqual(['req_broken', 'req_fine']);
    expect(
      await db()
        .selectFrom('usage_records')
        .select(['user_agent', 'client_ip', 'prompt_tokens', 'latency_ms', 'status'])
        .where('request_id', '=', 'req_broken')
        .executeTakeFirst(),
    ).toEqual({
      user_agent: '',
      client_ip: '',
      prompt_tokens: 0,
      latency_ms: Number.MAX_SAFE_INTEGER,
      status: 200,
    });
  });

  it('fails only the request whose row the database refuses; it takes nothing', async () => {
    const { ledger, database } = under();
    await creditTestAccount(ledger, 1_000_000);
    await refusePoisonedRecords(database);
    const holds = [await hold(ledger, 1_000), await hold(ledger, 1_000), await hold(ledger, 1_000)];
    const outcomes = await Promise.allSettled([
      ledger.settle(holds[0]!, charge(100), usageFacts('req_before')),
      ledger.settle(holds[1]!, charge(200), usageFacts('req_poison', 'poison')),
      ledger.settle(holds[2]!, charge(400), usageFacts('req_after')),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    under().settled();
    expect(await recorded()).toEqual(['req_after', 'req_before']);
    // Its request releases the hold, as after any failed settlement (a no-op where the group
    // commit already dropped it).
    await ledger.release(holds[1]!, undefined, Date.now());
    expect(await balance()).toBe(1_000_000 - 500);
    expect(await ledger.available(ACCOUNT)).toBe(1_000_000 - 500);
    await ledger.settle(await hold(ledger, 1_000), charge(100), usageFacts('req_later'));
    expect(await recorded()).toEqual(['req_after', 'req_before', 'req_later']);
  });
});
