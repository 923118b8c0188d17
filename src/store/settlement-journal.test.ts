import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  TEST_ACCOUNT as ACCOUNT,
  charge,
  creditTestAccount,
  insertTestAccount,
  nextTurn,
  testScope as scope,
  snapshotAsCrashed,
  usageFacts,
} from '../../test/support/ledger-fixture.js';
import { newId } from '../crypto/system.js';
import { DataVersionWatch } from './data-version-watch.js';
import { LedgerBatchWriter } from './ledger-batch.js';
import { type OpenSqlite, openSqlite } from './open-database.js';
import {
  refusedSettlementsPath,
  SettlementJournal,
  SettlementJournalError,
  settlementJournalPath,
} from './settlement-journal.js';
import { SqliteLedger } from './sqlite-ledger.js';

/** Quotes and a newline: the journal's JSON must bring them back unchanged. */
const USER_AGENT = 'test "agent"\n';

/** Opens a copy as the server would at its next start: replays its journal, then closes. */
async function restart(crashed: string): Promise<number> {
  const reopened = await openSqlite(crashed);
  try {
    const { journal, replayed } = SettlementJournal.open(crashed, new LedgerBatchWriter(reopened.sqlite));
    journal.close(true);
    return replayed;
  } finally {
    await reopened.close();
  }
}

/** What the ledger holds for the account, read by a connection of its own. */
function readLedger(file: string) {
  const db = new Database(file, { readonly: true });
  try {
    const usage = db.prepare('SELECT request_id, user_agent FROM usage_records ORDER BY rowid').all() as {
      request_id: string;
      user_agent: string;
    }[];
    const { sum } = db
      .prepare('SELECT SUM(amount_micros) AS sum FROM ledger_entries WHERE account_id = ?')
      .get(ACCOUNT) as { sum: number };
    const { available } = db
      .prepare('SELECT available_micros AS available FROM accounts WHERE id = ?')
      .get(ACCOUNT) as { available: number };
    return {
      requests: usage.map((row) => row.request_id),
      userAgents: usage.map((row) => row.user_agent),
      sum,
      available,
    };
  } finally {
    db.close();
  }
}

describe('the settlement journal', () => {
  let dir: string;
  let file: string;
  let database: OpenSqlite;
  let journal: SettlementJournal;
  let ledger: SqliteLedger;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tollgate-journal-'));
    file = path.join(dir, 'tollgate.db');
    database = await openSqlite(file);
    insertTestAccount(database.sqlite);
    journal = SettlementJournal.open(file, new LedgerBatchWriter(database.sqlite)).journal;
    ledger = new SqliteLedger(
      database.sqlite,
      new DataVersionWatch(database.sqlite),
      (prefix) => newId(prefix),
      journal,
    );
    await creditTestAccount(ledger, 1_000_000);
  });

  afterEach(async () => {
    ledger.close();
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Places and settles a hold; `answered` resolves when the settlement does (wrapped: awaiting would flatten it). */
  async function settleOne(
    requestId: string,
    micros: number,
    userAgent = USER_AGENT,
  ): Promise<{ answered: Promise<void> }> {
    const holdId = newId('hold');
    const now = Date.now();
    await ledger.placeHold({ id: holdId, requestId, scope, now }, () => [{ pool: 'prepaid', amount: 1_000 }]);
    return {
      answered: ledger.settle(holdId, charge(micros), usageFacts(requestId, userAgent)).then(() => undefined),
    };
  }

  it('answers a lone settlement once its journal line is written, and commits it on the next turn', async () => {
    let journalWhenAnswered = '';
    let ledgerWhenAnswered: string[] = [];
    await (await settleOne('req_lone', 400)).answered.then(() => {
      journalWhenAnswered = readFileSync(settlementJournalPath(file), 'utf8');
      ledgerWhenAnswered = readLedger(file).requests;
    });
    expect(journalWhenAnswered).toContain('"req_lone"');
    expect(ledgerWhenAnswered).toEqual([]);
    await nextTurn();
    const after = readLedger(file);
    expect(after.requests).toEqual(['req_lone']);
    expect(after.available).toBe(1_000_000 - 400);
    expect(after.sum).toBe(after.available);
  });

  it('commits a group larger than two before answering it, without the journal', async () => {
    const settled = await Promise.all([
      settleOne('req_a', 100),
      settleOne('req_b', 100),
      settleOne('req_c', 100),
    ]);
    let seen: string[] = [];
    await Promise.all(settled.map((one) => one.answered)).then(() => {
      seen = readLedger(file).requests;
    });
    expect(seen).toEqual(['req_a', 'req_b', 'req_c']);
    expect(readFileSync(settlementJournalPath(file), 'utf8')).not.toContain('req_a');
  });

  it('after a crash between the answer and the commit, commits the answered request exactly once at the next start', async () => {
    const crashed = path.join(dir, 'crashed.db');
    await (await settleOne('req_answered', 700)).answered.then(() => snapshotAsCrashed(file, crashed));
    expect(readLedger(crashed).requests).toEqual([]);

    for (const expectedReplays of [1, 0]) {
      expect(await restart(crashed)).toBe(expectedReplays);
      const recovered = readLedger(crashed);
      expect(recovered.requests).toEqual(['req_answered']);
      expect(recovered.userAgents).toEqual([USER_AGENT]);
      expect(recovered.available).toBe(1_000_000 - 700);
      expect(recovered.sum).toBe(recovered.available);
    }
  });

  it.each([
    ['before the cache-token, over_hold and outcome columns existed', 4],
    ['before the over_hold and outcome columns existed', 2],
    ['before the outcome column existed', 1],
  ])(
    'replays a line written %s, with no cache tokens, within its hold, as a completed request',
    async (_when, missing) => {
      const crashed = path.join(dir, 'older.db');
      await (await settleOne('req_older', 500)).answered.then(() => snapshotAsCrashed(file, crashed));
      // The same lines as a server without the last usage columns wrote them.
      const journalFile = settlementJournalPath(crashed);
      const lines = readFileSync(journalFile, 'utf8').trim().split('\n');
      const older = lines.map((text) => {
        const line = JSON.parse(text) as { batch: { usage: unknown[][] } };
        for (const row of line.batch.usage) row.splice(-missing);
        return JSON.stringify(line);
      });
      writeFileSync(journalFile, `${older.join('\n')}\n`);
      expect(await restart(crashed)).toBe(1);
      const db = new Database(crashed, { readonly: true });
      try {
        expect(
          db
            .prepare(
              'SELECT request_id, cache_read_tokens, cache_write_tokens, over_hold, outcome FROM usage_records',
            )
            .all(),
        ).toEqual([
          {
            request_id: 'req_older',
            cache_read_tokens: 0,
            cache_write_tokens: 0,
            over_hold: 0,
            outcome: 'completed',
          },
        ]);
      } finally {
        db.close();
      }
    },
  );

  it('ignores a last line cut short, whose write never returned', async () => {
    const crashed = path.join(dir, 'torn.db');
    await (await settleOne('req_whole', 300)).answered.then(() => snapshotAsCrashed(file, crashed));
    appendFileSync(settlementJournalPath(crashed), '{"seq":99,"batch":{"entries":[');
    expect(await restart(crashed)).toBe(1);
    expect(readLedger(crashed).requests).toEqual(['req_whole']);
  });

  it('refuses to start on a damaged line that is not the last, naming the file and the line', async () => {
    const damaged = path.join(dir, 'damaged.db');
    const reopened = await openSqlite(damaged);
    try {
      writeFileSync(settlementJournalPath(damaged), 'not json\n{"seq":1,"batch":{}}\n');
      expect(() => SettlementJournal.open(damaged, new LedgerBatchWriter(reopened.sqlite))).toThrow(
        SettlementJournalError,
      );
      expect(() => SettlementJournal.open(damaged, new LedgerBatchWriter(reopened.sqlite))).toThrow(
        `${settlementJournalPath(damaged)}, line 1: not a ledger batch`,
      );
    } finally {
      await reopened.close();
    }
  });

  it('while the database refuses commits, answers nothing more from the journal, and commits what it answered once it can', async () => {
    database.sqlite.pragma('busy_timeout = 0');
    ledger.flush(); // the credit of beforeEach, itself journaled
    const locker = new Database(file);
    try {
      locker.exec('BEGIN IMMEDIATE');
      // Answered from the journal; its commit on the next turn finds the database locked.
      await (await settleOne('req_journaled', 100)).answered;
      await nextTurn();
      expect(readLedger(file).requests).toEqual([]);
      // Now a lone request is not answered from the journal: it commits first, and fails visibly.
      await expect((await settleOne('req_refused', 100)).answered).rejects.toThrow(/locked|busy/i);
      locker.exec('COMMIT');
      await (await settleOne('req_after', 100)).answered;
      await nextTurn();
    } finally {
      locker.close();
    }
    const after = readLedger(file);
    expect(after.requests).toEqual(['req_journaled', 'req_after']);
    expect(after.available).toBe(1_000_000 - 200);
    expect(after.sum).toBe(after.available);
  });

  it('removes the journal on a clean close, once everything in it is committed', async () => {
    await await settleOne('req_closing', 100);
    ledger.close();
    expect(existsSync(settlementJournalPath(file))).toBe(false);
    expect(readLedger(file).requests).toEqual(['req_closing']);
    // afterEach closes again: a second close must do no harm.
  });

  describe('with a batch the database refuses', () => {
    /** Stands for any row the database might refuse, whatever the reason. */
    const refusePoison = (db: { exec(sql: string): unknown }) =>
      db.exec(`CREATE TRIGGER refuse_poison BEFORE INSERT ON usage_records
        WHEN NEW.user_agent = 'poison' BEGIN SELECT RAISE(ABORT, 'refused for the test'); END`);
    const refusedLines = (db: string) =>
      readFileSync(refusedSettlementsPath(db), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { seq: number; reason: string });

    it('sets the refused batch aside and goes on committing the ones after it', async () => {
      refusePoison(database.sqlite);
      ledger.flush();
      // Answered from the journal; its commit on the next turn is refused, and it is set aside then.
      await (await settleOne('req_poison', 100, 'poison')).answered;
      await nextTurn();
      expect(refusedLines(file)).toHaveLength(1);
      for (const id of ['req_after', 'req_later']) {
        await (await settleOne(id, 100)).answered;
        await nextTurn();
      }
      const after = readLedger(file);
      expect(after.requests).toEqual(['req_after', 'req_later']);
      expect(after.available).toBe(1_000_000 - 200);
      expect(after.sum).toBe(after.available);
      expect(await ledger.available(ACCOUNT)).toBe(after.available);
      const [refused, ...more] = refusedLines(file);
      expect(more).toEqual([]);
      expect(refused?.reason).toBe('refused for the test');
      expect(JSON.stringify(refused)).toContain('req_poison');
    });

    it('at the next start, replays the batches after a refused one, sets it aside, and starts', async () => {
      refusePoison(database.sqlite);
      ledger.flush();
      const crashed = path.join(dir, 'crashed.db');
      // Two requests ending together: a journal line each, then the crash before their commit.
      const group = await Promise.all([settleOne('req_poison', 100, 'poison'), settleOne('req_good', 300)]);
      await Promise.all(group.map((one) => one.answered)).then(() => snapshotAsCrashed(file, crashed));
      expect(readLedger(crashed).requests).toEqual([]);

      expect(await restart(crashed)).toBe(1);
      const recovered = readLedger(crashed);
      expect(recovered.requests).toEqual(['req_good']);
      expect(recovered.available).toBe(1_000_000 - 300);
      expect(recovered.sum).toBe(recovered.available);
      expect(refusedLines(crashed).map((line) => line.reason)).toEqual(['refused for the test']);
      // Counted as applied: the next start neither replays nor sets it aside again.
      expect(await restart(crashed)).toBe(0);
      expect(refusedLines(crashed)).toHaveLength(1);
    });
  });
});
