import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, type CliResult, type CliServer, startCliServer } from '../support/cli-server.js';
import { configYaml, TEST_KEY_SECRET } from '../support/harness.js';
import { type PostgresServer, postgresMissing, startPostgres } from '../support/real-servers.js';

const skip = postgresMissing();

/** One PostgreSQL server for the file; each test gets databases of its own. */
let server: PostgresServer;
beforeAll(async () => {
  if (!skip) server = await startPostgres();
});
afterAll(() => server?.stop());

describe.skipIf(skip)(`the tollgate CLI on PostgreSQL${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tollgate-cli-pg-'));
    // Nothing is proxied here: the provider's address only has to be a valid one.
    writeFileSync(path.join(dir, 'tollgate.yaml'), configYaml('http://127.0.0.1:9/v1'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const cli = (args: string[], env: NodeJS.ProcessEnv, configFile = 'tollgate.yaml') =>
    new Promise<CliResult>((resolve) => {
      const child = execFile(
        'node',
        [BIN, '--config', path.join(dir, configFile), ...args],
        {
          env: {
            PATH: process.env.PATH,
            TOLLGATE_KEY_SECRET: TEST_KEY_SECRET,
            TOLLGATE_ENV_FILE: path.join(dir, 'none.env'),
            ...env,
          },
          cwd: dir,
        },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
      child.stdin?.end();
    });

  async function json<T>(args: string[], env: NodeJS.ProcessEnv, configFile?: string): Promise<T> {
    const result = await cli([...args, '--json'], env, configFile);
    if (result.code !== 0) throw new Error(`tollgate ${args.join(' ')} failed: ${result.stderr}`);
    expect(result.stdout + result.stderr).not.toContain(server.password);
    return JSON.parse(result.stdout) as T;
  }

  it('creates an account and a key in the database TOLLGATE_DATABASE_URL names, and lists the key', async () => {
    const url = await server.createDatabase();
    const env = { TOLLGATE_DATABASE_URL: url };
    const account = await json<{ id: string }>(['accounts', 'create', '--email', 'ops@example.com'], env);
    expect(account.id).toMatch(/^acct_/);
    const created = await json<{ id: string; key: string }>(
      ['keys', 'create', account.id, '--name', 'laptop'],
      env,
    );
    expect(created.key).toMatch(/^llmbase_/);
    const listed = await json<{ id: string; name: string }[]>(['keys', 'list', account.id], env);
    expect(listed).toEqual([expect.objectContaining({ id: created.id, name: 'laptop' })]);

    // The rows are in PostgreSQL, as another instance or a SQL client sees them.
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query(
        'SELECT a.email, k.name FROM api_keys k JOIN accounts a ON a.id = k.account_id',
      );
      expect(rows).toEqual([{ email: 'ops@example.com', name: 'laptop' }]);
    } finally {
      await client.end();
    }
  });

  it('takes database.url from the file without a password, and the password from PGPASSWORD', async () => {
    const url = new URL(await server.createDatabase());
    url.password = '';
    writeFileSync(
      path.join(dir, 'from-file.yaml'),
      `${configYaml('http://127.0.0.1:9/v1')}\ndatabase:\n  url: ${url}\n  pool_size: 2\n`,
    );
    const account = await json<{ id: string }>(
      ['accounts', 'create', '--email', 'file@example.com'],
      { PGPASSWORD: server.password },
      'from-file.yaml',
    );
    expect(account.id).toMatch(/^acct_/);
  });

  it('refuses a password written in the file, naming the setting', async () => {
    writeFileSync(
      path.join(dir, 'with-password.yaml'),
      `${configYaml('http://127.0.0.1:9/v1')}\ndatabase:\n  url: ${await server.createDatabase()}\n`,
    );
    const result = await cli(['accounts', 'create', '--email', 'x@example.com'], {}, 'with-password.yaml');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/database\.url: a password does not belong in the configuration file/);
    expect(result.stderr).not.toContain(server.password);
  });
});

describe.skipIf(skip)(
  `the tollgate CLI beside a server on PostgreSQL${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    let postgres: PostgresServer;
    let s: CliServer;

    beforeAll(async () => {
      postgres = await startPostgres();
      s = await startCliServer('', await postgres.createDatabase());
    });
    afterAll(async () => {
      await s?.stop();
      await postgres?.stop();
    });

    async function balance(key: string) {
      const response = await fetch(`${s.baseUrl}/v1/balance`, {
        headers: { authorization: `Bearer ${key}` },
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    }

    it('creates an account, credits and a key that the server accepts, then revokes it, which the server refuses', async () => {
      const account = await s.cliJson<{ id: string }>(['accounts', 'create', '--email', 'ops@example.com']);
      const credited = await s.cliJson<{ balance_micros: number }>([
        'credits',
        'add',
        account.id,
        '--usd',
        '5.00',
      ]);
      expect(credited.balance_micros).toBe(5_000_000);
      const created = await s.cliJson<{ id: string; key: string }>([
        'keys',
        'create',
        account.id,
        '--name',
        'ci',
      ]);
      expect(await balance(created.key)).toEqual({ status: 200, body: { balance_usd_cents: 500 } });

      await s.cliJson(['keys', 'revoke', created.id]);
      // The server hears of the revocation through the change feed (NOTIFY): within a second.
      const deadline = Date.now() + 5_000;
      let after = await balance(created.key);
      while (after.status === 200 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        after = await balance(created.key);
      }
      expect(after.status).toBe(401);
      expect(after.body).toMatchObject({ error: { code: 'api_key_revoked' } });
    });
  },
);
