import type { Database as BetterSqlite, Statement } from 'better-sqlite3';

/**
 * Inserts many rows with few statements: one multi-row INSERT per chunk, chunk sizes taken from a
 * short fixed list so that only a handful of statements are ever prepared.
 */
const CHUNK_SIZES = [256, 64, 16, 4, 1] as const;

export class BatchedInsert {
  private readonly statements = new Map<number, Statement<unknown[]>>();

  constructor(
    private readonly db: BetterSqlite,
    private readonly table: string,
    private readonly columns: readonly string[],
  ) {}

  run(rows: readonly (readonly unknown[])[]): void {
    let at = 0;
    while (at < rows.length) {
      const size = CHUNK_SIZES.find((s) => s <= rows.length - at) ?? 1;
      this.statement(size).run(rows.slice(at, at + size).flat());
      at += size;
    }
  }

  private statement(size: number): Statement<unknown[]> {
    let statement = this.statements.get(size);
    if (!statement) {
      const row = `(${this.columns.map(() => '?').join(', ')})`;
      statement = this.db.prepare(
        `INSERT INTO ${this.table} (${this.columns.join(', ')}) VALUES ${Array(size).fill(row).join(', ')}`,
      );
      this.statements.set(size, statement);
    }
    return statement;
  }
}
