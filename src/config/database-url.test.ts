import { describe, expect, it } from 'vitest';
import { databaseSecrets, describeDatabase } from './database-url.js';

describe('what logs may say about the database', () => {
  it('names the SQLite file, and a PostgreSQL URL without its password', () => {
    expect(describeDatabase({ kind: 'sqlite', path: './data/tollgate.db' })).toBe('./data/tollgate.db');
    expect(
      describeDatabase({
        kind: 'postgres',
        url: 'postgres://tollgate:s3cret@db:5432/tollgate',
        poolSize: 10,
      }),
    ).toBe('postgres://tollgate@db:5432/tollgate');
  });

  it('gives the redactor the password from the URL, encoded or not, and from PGPASSWORD', () => {
    const database = {
      kind: 'postgres',
      url: 'postgres://tollgate:p%40ss%2Fword@db/tollgate',
      poolSize: 10,
    } as const;
    expect(databaseSecrets(database, { PGPASSWORD: 'from-the-environment' })).toEqual([
      'p%40ss%2Fword',
      'p@ss/word',
      'from-the-environment',
    ]);
    expect(databaseSecrets({ kind: 'sqlite', path: 'x.db' }, { PGPASSWORD: 'unused' })).toEqual([]);
  });
});
