import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { type FakeUpstream, startFakeUpstream } from '../support/fake-openai-upstream.js';
import { configYaml, TEST_KEY_SECRET } from '../support/harness.js';
import { seedAccount, seedKey } from '../support/services-beside-server.js';

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
    const config = loadConfig(path.join(dir, 'tollgate.yaml'), env);
    const accountId = await seedAccount(config, { usd: '100', email: 'crash@example.com' });
    const { key } = await seedKey(config, accountId, { name: 'crash' });

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

    // The kill comes once enough requests have completed, not after a fixed time, so that a busy
    // machine only makes the test slower; 16 clients keep requests in flight when it comes.
    const completed: string[] = [];
    let killed = false;
    let enough: () => void = () => {};
    const enoughCompleted = new Promise<void>((resolve) => {
      enough = resolve;
    });
    const deadline = Date.now() + 30_000;
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
          if (response.status === 200 && body.usage) {
            completed.push(response.headers.get('x-request-id') ?? '');
            if (completed.length > 60) enough();
          }
        } catch {
          // The connection died with the server: this request was never complete for its client.
        }
      }
    };
    const workers = Array.from({ length: 16 }, worker);
    await Promise.race([enoughCompleted, Promise.all(workers)]);
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
        .get(accountId) as {
        sum: number;
      };
      const { available } = db
        .prepare('SELECT available_micros AS available FROM accounts WHERE id = ?')
        .get(accountId) as {
        available: number;
      };
      expect(sum).toBe(available);
    } finally {
      db.close();
    }
  });
});
