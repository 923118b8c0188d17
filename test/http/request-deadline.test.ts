import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import SqliteDatabase from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bearer, eventually, type Harness, startHarness } from '../support/harness.js';

/**
 * A request's time is bounded by its provider's `timeouts.total_ms`, and its hold lasts exactly as
 * long as the request: nothing releases the hold of a request that is still running, however long
 * it runs, so no answer is ever served free.
 */
const START = Date.parse('2026-03-10T12:00:00Z');
const clock = { t: START, now: () => clock.t };
const TOTAL_MS = 1_500;

/**
 * A provider that never finishes: a stream sends a chunk every 100 ms, a JSON answer a space every
 * 100 ms after its first bytes. Neither first_byte_ms nor idle_ms can end them.
 */
function trickler(): Promise<Server> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => {
      const stream = (JSON.parse(body) as { stream?: boolean }).stream === true;
      res.writeHead(200, { 'content-type': stream ? 'text/event-stream' : 'application/json' });
      let i = 0;
      const base = { id: 'chatcmpl-slow', object: 'chat.completion.chunk', created: 0, model: 'slow' };
      res.write(stream ? '' : '{"id":"chatcmpl-slow","object":"chat.completion"');
      // setTimeout, not setInterval: the test fakes repeating timers.
      let timer: NodeJS.Timeout;
      const next = () => {
        const delta = { content: `tok${i++} ` };
        res.write(
          stream
            ? `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, finish_reason: null }] })}\n\n`
            : ' ',
        );
        timer = setTimeout(next, 100);
      };
      timer = setTimeout(next, 100);
      res.on('close', () => clearTimeout(timer));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

let h: Harness;
let upstream: Server;

beforeAll(async () => {
  // Repeating timers are faked, so that the test can run every periodic job of the server at will
  // (as a hold sweeper would be); everything else runs on real time.
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
  upstream = await trickler();
  h = await startHarness({
    clock,
    upstreamUrl: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`,
    providerYaml: `    timeouts: { first_byte_ms: 60000, idle_ms: 60000, total_ms: ${TOTAL_MS} }`,
    // A file written for an older release still starts.
    extraYaml: `billing:
  hold_ttl_seconds: 60
plans:
  - { id: starter, kind: inference, monthly_budget_usd: 5 }
`,
  });
  await h.listen();
});

afterAll(async () => {
  await h.close();
  vi.useRealTimers();
  upstream.closeAllConnections();
  await new Promise((resolve) => upstream.close(resolve));
});

interface UsageRow {
  status: number;
  cost_micros: number;
  usage_source: string;
  completion_tokens: number;
}

async function usageRecords(accountId: string): Promise<UsageRow[]> {
  // Reading the ledger commits whatever is queued.
  await h.tollgate.services.ledger.entries(accountId);
  const db = new SqliteDatabase(h.databaseFile, { readonly: true });
  try {
    return db
      .prepare(
        'SELECT status, cost_micros, usage_source, completion_tokens FROM usage_records WHERE account_id = ?',
      )
      .all(accountId) as UsageRow[];
  } finally {
    db.close();
  }
}

async function read(body: ReadableStream<Uint8Array>, until: (text: string) => boolean): Promise<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (!until(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  reader.releaseLock();
  return text;
}

describe("a provider's total deadline", () => {
  it('ends a stream that outlives total_ms and the retired hold_ttl_seconds with an error event, and charges what was relayed', async () => {
    // A subscription key: the charge must land in the pool its hold drew on.
    const user = await h.seed({
      usd: '1',
      plans: ['starter'],
      spending: { billing: 'subscription', overflow: false, limit: undefined },
    });
    const started = Date.now();
    const response = await fetch(`${h.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...bearer(user.key), 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mistral', messages: [{ role: 'user', content: 'Hi' }], stream: true }),
    });
    expect(response.status).toBe(200);
    if (!response.body) throw new Error('no body');
    const early = await read(response.body, (text) => text.includes('tok2'));
    // Hours pass on the server's clock while the answer is still arriving, far past the file's
    // hold_ttl_seconds, and every periodic job of the server runs.
    clock.t += 2 * 3_600_000;
    vi.runOnlyPendingTimers();
    const rest = early + (await read(response.body, () => false));
    const elapsed = Date.now() - started;

    const events = rest.split('\n\n').filter(Boolean);
    const last = JSON.parse(events.at(-1)!.replace(/^data: /, '')) as {
      error?: { code: string; type: string };
    };
    expect(last.error).toMatchObject({ code: 'upstream_timeout', type: 'api_error' });
    expect(rest).not.toContain('[DONE]');
    // Bounded by total_ms, not by the minute-long first-byte and idle timeouts; generous for a busy machine.
    expect(elapsed).toBeGreaterThanOrEqual(TOTAL_MS - 100);
    expect(elapsed).toBeLessThan(20_000);

    await eventually(async () => (await usageRecords(user.accountId)).length > 0);
    const [record] = await usageRecords(user.accountId);
    expect(record).toMatchObject({ status: 504, usage_source: 'estimated' });
    expect(record!.completion_tokens).toBeGreaterThanOrEqual(3);
    expect(record!.cost_micros).toBeGreaterThan(0);
    expect(await h.chargedByPool(user.accountId)).toEqual({
      prepaid: 0,
      subscription: record!.cost_micros,
      agent_quota: 0,
    });
    expect(await h.ledgerOf(user.accountId)).toMatchObject({ openHolds: 0, balance: 1_000_000 });
    expect(h.logs.join('')).not.toContain('hold was already closed');
  });

  it('answers a JSON request that outlives total_ms with 504 upstream_timeout and charges nothing', async () => {
    const user = await h.seed({ usd: '1' });
    const started = Date.now();
    const response = await fetch(`${h.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...bearer(user.key), 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mistral', messages: [{ role: 'user', content: 'Hi' }] }),
    });
    expect(response.status).toBe(504);
    expect(await response.json()).toMatchObject({ error: { code: 'upstream_timeout', type: 'api_error' } });
    expect(response.headers.get('x-request-id')).toMatch(/^req_/);
    expect(Date.now() - started).toBeLessThan(20_000);
    const [record] = await usageRecords(user.accountId);
    expect(record).toMatchObject({ status: 504, cost_micros: 0 });
    expect(await h.ledgerOf(user.accountId)).toMatchObject({ openHolds: 0, settled: 0, balance: 1_000_000 });
  });

  it('starts with a file that still sets the retired billing.hold_ttl_seconds, and says it is ignored', () => {
    const warning = h.logs.find((line) => line.includes('hold_ttl_seconds'));
    expect(warning).toBeDefined();
    expect(JSON.parse(warning!)).toMatchObject({ level: 40 });
    expect(warning).toContain('is ignored');
  });
});
