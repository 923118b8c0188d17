import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../support/harness.js';
import { charge, snapshotAsCrashed } from '../support/ledger-fixture.js';

/**
 * The server's side of the settlement journal: a request answered from the journal, whose commit a
 * crash prevented, is committed by the next server to start on that database, once, and logged.
 */
describe('a server started on the files a crashed server left', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-replay-'));
  const harnesses: Harness[] = [];
  afterAll(async () => {
    for (const harness of harnesses) await harness.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('commits what the last run answered but had only journaled, once, and says so in its log', async () => {
    const first = await startHarness();
    harnesses.push(first);
    const { accountId, keyId } = await first.seed({ usd: '1' });
    const { ledger } = first.tollgate.services;
    const now = Date.now();
    const scope = { accountId, keyId, keyLimit: undefined, primary: undefined, prepaid: true };
    await ledger.placeHold({ id: 'hold_replayed', requestId: 'req_replayed', scope, now }, () => [
      { pool: 'prepaid', amount: 5_000 },
    ]);
    const crashed = path.join(dir, 'crashed.db');
    // Answered: the files as they are at this instant are what SIGKILL would leave.
    await ledger
      .settle('hold_replayed', charge(3_000), {
        requestId: 'req_replayed',
        accountId,
        keyId,
        basePath: '/v1',
        model: 'm',
        providerId: 'p',
        upstreamModel: 'u',
        promptTokens: 1,
        completionTokens: 2,
        usageSource: 'upstream',
        outcome: 'completed',
        status: 200,
        latencyMs: 1,
        clientIp: '127.0.0.1',
        userAgent: 'test',
        createdAt: now,
      })
      .then(() => snapshotAsCrashed(first.databaseFile, crashed));

    for (const replays of [1, 0]) {
      const next = await startHarness({ databaseFile: crashed });
      const settled = (await next.tollgate.services.ledger.entries(accountId)).filter(
        (e) => e.kind === 'settle',
      );
      const replayLog = next.logs.filter((line) => line.includes('only journaled'));
      // Closing reconciles the database: entries sum to the balance, no hold left open.
      await next.close();
      expect(settled.map((e) => [e.holdId, e.amount])).toEqual([['hold_replayed', -3_000]]);
      expect(replayLog.length).toBe(replays);
      if (replays) expect(JSON.parse(replayLog[0]!)).toMatchObject({ level: 40, batches: 1 });
    }
  });
});
