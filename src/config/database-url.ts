/** Which database Tollgate keeps its state in: a SQLite file, or a PostgreSQL server shared by instances. */
export type DatabaseConfig =
  | { readonly kind: 'sqlite'; readonly path: string }
  | {
      readonly kind: 'postgres';
      /** As given; it may carry a password only when it came from TOLLGATE_DATABASE_URL. */
      readonly url: string;
      readonly poolSize: number;
    };

const SQLITE_EXAMPLE = 'sqlite:<path>, for example sqlite:./data/tollgate.db';
const POSTGRES = /^postgres(ql)?:\/\//;

export class DatabaseUrlError extends Error {}

/**
 * The database named by TOLLGATE_DATABASE_URL, else by `database.url` in the file. A password
 * belongs in the environment only (the URL variable, or PGPASSWORD, which the PostgreSQL client
 * reads itself): a file URL carrying one is refused rather than read, so that it is moved out.
 */
export function databaseConfig(
  envUrl: string | undefined,
  fileUrl: string,
  poolSize: number,
  /** How messages name the file's setting, e.g. `tollgate.yaml: database.url`. */
  fileSetting = 'database.url',
): DatabaseConfig {
  const setting = envUrl === undefined ? fileSetting : 'TOLLGATE_DATABASE_URL';
  const url = envUrl ?? fileUrl;
  if (url.startsWith('sqlite:') && url.length > 'sqlite:'.length)
    return { kind: 'sqlite', path: url.slice('sqlite:'.length) };
  if (!POSTGRES.test(url))
    throw new DatabaseUrlError(
      `${setting}: expected ${SQLITE_EXAMPLE}, or postgres://user@host:5432/database`,
    );
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DatabaseUrlError(`${setting}: not a valid postgres:// URL`);
  }
  if (parsed.hostname === '') throw new DatabaseUrlError(`${setting}: the postgres:// URL names no host`);
  if (envUrl === undefined && parsed.password !== '')
    throw new DatabaseUrlError(
      `${fileSetting}: a password does not belong in the configuration file; remove it and set PGPASSWORD, or give the whole URL in TOLLGATE_DATABASE_URL`,
    );
  return { kind: 'postgres', url, poolSize };
}

/** The URL without its password, for logs and messages. */
export function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return url;
    parsed.password = '';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//');
  }
}

/** What a log line may say about the database: the SQLite path, or the URL without its password. */
export function describeDatabase(database: DatabaseConfig): string {
  return database.kind === 'sqlite' ? database.path : withoutPassword(database.url);
}

/**
 * The database's password as the environment gives it (in TOLLGATE_DATABASE_URL, or PGPASSWORD),
 * for the log redactor: no line a driver error or a dependency writes may carry it.
 */
export function databaseSecrets(database: DatabaseConfig, env: NodeJS.ProcessEnv): string[] {
  if (database.kind !== 'postgres') return [];
  const secrets: string[] = [];
  try {
    const password = new URL(database.url).password;
    if (password !== '') secrets.push(password, decodeURIComponent(password));
  } catch {
    // Refused when the configuration was loaded; nothing to add.
  }
  if (env.PGPASSWORD) secrets.push(env.PGPASSWORD);
  return secrets;
}
