import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from '../support/fake-openai-upstream.js';
import { configYaml, TEST_KEY_SECRET } from '../support/harness.js';

/**
 * The server is killed with SIGKILL under load. Every response a client received complete must be
 * in the ledger once the server has started again (it replays its settlement journal then), and
 * the ledger must still sum to the balance.
 */
const BIN = path.resolve('bin/tollgate.js');
let dir: string;
let upstream: FakeUpstream;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'tollgate-crash-'));
  upstream = await startFakeUpstream({ firstByteDelayMs: 2 });
});
afterAll(async () => {
  await upstream.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a server killed with SIGKILL under load', () => {
  it('loses no completed request from the ledger', async () => {
    writeFileSync(path.join(dir, 'tollgate.yaml'), configYaml(upstream.url));
    const database = path.join(dir, 'tollgate.db');
    const env = {
      PATH: process.env.PATH,
      TOLLGATE_KEY_SECRET: TEST_KEY_SECRET,
      TOLLGATE_DATABASE_URL: `sqlite:${database}`,
      TOLLGATE_ENV_FILE: path.join(dir, 'none.env'),
      PORT: '0',
    };
    const cli = (...args: string[]) =>
      JSON.parse(execFileSync('node', [BIN, ...args, '--json'], { env, cwd: dir }).toString()) as {
        id: string;
        key: string;
      };
    const account = cli('accounts', 'create', '--email', 'crash@example.com');
    cli('credits', 'add', account.id, '--usd', '100');
    const { key } = cli('keys', 'create', account.id, '--name', 'crash');

    const serve = () => {
      const server: ChildProcess = spawn('node', [BIN, 'serve'], {
        env,
        cwd: dir,
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      const listening = new Promise<string>((resolve) => {
        let seen = '';
        server.stdout?.on('data', (chunk: Buffer) => {
          seen += chunk.toString();
          const match = /"address":"(http:\/\/[^"]+)"/.exec(seen);
          if (match?.[1]) resolve(match[1]);
        });
      });
      const exited = new Promise((resolve) => server.once('exit', resolve));
      return { server, listening, exited };
    };
    const first = serve();
    const baseUrl = await first.listening;

    const completed: string[] = [];
    let killed = false;
    const deadline = Date.now() + 3_000;
    const worker = async () => {
      while (!killed && Date.now() < deadline) {
        try {
          const response = await fetch(`${baseUrl}/v1/chat/completions`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body: JSON.stringify({
              model: 'mistral',
              messages: [{ role: 'user', content: 'Hi' }],
              max_tokens: 8,
            }),
          });
          const body = (await response.json()) as { usage?: unknown };
          if (response.status === 200 && body.usage)
            completed.push(response.headers.get('x-request-id') ?? '');
        } catch {
          // The connection died with the server: this request was never complete for its client.
        }
      }
    };
    const workers = Array.from({ length: 16 }, worker);
    await new Promise((resolve) => setTimeout(resolve, 800));
    first.server.kill('SIGKILL');
    killed = true;
    await Promise.all(workers);
    await first.exited;
    // Started again and stopped: what it answered but had only journaled is committed now.
    const second = serve();
    await second.listening;
    second.server.kill('SIGTERM');
    await second.exited;

    expect(completed.length).toBeGreaterThan(50);
    const db = new Database(database, { readonly: true });
    try {
      const recorded = new Set(
        (
          db.prepare('SELECT request_id FROM usage_records WHERE status = 200').all() as {
            request_id: string;
          }[]
        ).map((r) => r.request_id),
      );
      const missing = completed.filter((id) => !recorded.has(id));
      expect(missing).toEqual([]);
      const { sum } = db
        .prepare('SELECT SUM(amount_micros) AS sum FROM ledger_entries WHERE account_id = ?')
        .get(account.id) as {
        sum: number;
      };
      const { available } = db
        .prepare('SELECT available_micros AS available FROM accounts WHERE id = ?')
        .get(account.id) as {
        available: number;
      };
      expect(sum).toBe(available);
    } finally {
      db.close();
    }
  });
});
