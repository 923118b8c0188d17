import type { Database as BetterSqlite, Statement } from 'better-sqlite3';

/**
 * Inserts many rows with few statements: one multi-row INSERT per chunk, chunk sizes the powers of
 * two up to 256, so that any batch takes at most one statement per bit of its size (a group commit
 * of 30 ledger rows: 4 statements rather than 6 with sizes 256/64/16/4/1), and only nine statements
 * are ever prepared. Each run's parameters are copied into one reused array per chunk size instead
 * of slicing and flattening the rows.
 */
const CHUNK_SIZES = [256, 128, 64, 32, 16, 8, 4, 2, 1] as const;

interface Chunk {
  readonly statement: Statement<unknown[]>;
  readonly parameters: unknown[];
}

export class BatchedInsert {
  private readonly chunks = new Map<number, Chunk>();

  /**
   * `statementFor(n)` is the SQL that writes n rows, taking each row's values as its next run of
   * `?` parameters.
   */
  constructor(
    private readonly db: BetterSqlite,
    private readonly statementFor: (rows: number) => string,
  ) {}

  /** The plain case: each row is the values of `columns`, in order. */
  static into(db: BetterSqlite, table: string, columns: readonly string[]): BatchedInsert {
    const row = `(${columns.map(() => '?').join(', ')})`;
    return new BatchedInsert(
      db,
      (rows) => `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${Array(rows).fill(row).join(', ')}`,
    );
  }

  run(rows: readonly (readonly unknown[])[]): void {
    let at = 0;
    for (const size of CHUNK_SIZES) {
      while (rows.length - at >= size) {
        const { statement, parameters } = this.chunk(size);
        let p = 0;
        for (let r = at; r < at + size; r++) {
          const row = rows[r]!;
          for (let c = 0; c < row.length; c++) parameters[p++] = row[c];
        }
        parameters.length = p;
        statement.run(parameters);
        // The reused array must not keep the batch's values alive until the next one.
        parameters.fill(null);
        at += size;
      }
    }
  }

  private chunk(size: number): Chunk {
    let chunk = this.chunks.get(size);
    if (!chunk) {
      const statement = this.db.prepare<unknown[]>(this.statementFor(size));
      chunk = { statement, parameters: [] };
      this.chunks.set(size, chunk);
    }
    return chunk;
  }
}
