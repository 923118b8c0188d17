import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type PostgresServer, postgresMissing, startPostgres } from '../../test/support/real-servers.js';
import type { Change } from '../ports/change-feed.js';
import { PgNotifyChangeFeed } from './pg-notify-change-feed.js';

const skip = postgresMissing();
if (skip) console.warn(`Skipping the NOTIFY change feed tests: ${skip}`);

const suspended: Change = { scope: 'account', what: 'suspended', accountId: 'acct_1' };

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe.skipIf(skip)('the change feed over PostgreSQL NOTIFY', () => {
  let server: PostgresServer;
  let url: string;
  const feeds: PgNotifyChangeFeed[] = [];
  beforeAll(async () => {
    server = await startPostgres();
    url = await server.createDatabase();
  });
  afterEach(async () => {
    for (const feed of feeds.splice(0)) await feed.close();
  });
  afterAll(async () => {
    await server?.stop();
  });

  function listening(instanceId: string, log: string[] = []) {
    const feed = new PgNotifyChangeFeed(url, instanceId, {
      info: (_, message) => log.push(`info: ${message}`),
      warn: (_, message) => log.push(`warn: ${message}`),
      error: (_, message) => log.push(`error: ${message}`),
    });
    feeds.push(feed);
    const heard: { change: Change; at: number }[] = [];
    feed.subscribe((change) => heard.push({ change, at: Date.now() }));
    return { feed, heard, log };
  }

  const live = (feed: PgNotifyChangeFeed) => waitFor('live', () => (feed.isLive() ? true : undefined));

  it('brings one process a change another published, and not its own', async () => {
    const server1 = listening('inst_server');
    await live(server1.feed);
    const cli = new PgNotifyChangeFeed(url, 'cli_1', { info: () => {}, warn: () => {}, error: () => {} });
    feeds.push(cli);
    server1.heard.length = 0;
    const sent = Date.now();
    await cli.publish(suspended);
    await server1.feed.publish({ scope: 'account', what: 'changed', accountId: 'acct_2' });
    const arrived = await waitFor('the change', () =>
      server1.heard.find((h) => h.change.scope === 'account'),
    );
    expect(arrived.change).toEqual(suspended);
    expect(arrived.at - sent).toBeLessThan(1_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server1.heard.map((h) => h.change)).toEqual([suspended]);
  });

  it('sends through a pool it is given, without a connection of its own', async () => {
    const listener = listening('inst_pooled');
    await live(listener.feed);
    listener.heard.length = 0;
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    try {
      const cli = new PgNotifyChangeFeed(
        url,
        'cli_2',
        { info: () => {}, warn: () => {}, error: () => {} },
        pool,
      );
      feeds.push(cli);
      await cli.publish(suspended);
      await waitFor('the change', () => listener.heard.find((h) => h.change.scope === 'account'));
    } finally {
      await pool.end();
    }
  });

  it('when its connection is cut, empties caches, says so, reconnects and listens again', async () => {
    const watcher = listening('inst_watcher');
    await live(watcher.feed);
    watcher.heard.length = 0;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE application_name = 'tollgate-changes-inst_watcher'`,
      );
      await waitFor('the loss noticed', () => (watcher.feed.isLive() ? undefined : true));
      expect(watcher.heard[0]?.change.scope).toBe('everything');
      expect(watcher.log.filter((line) => line.startsWith('warn:'))).toHaveLength(1);
      await live(watcher.feed);
      expect(watcher.log.at(-1)).toMatch(/^info: listening for changes again/);
      await admin.query(`SELECT pg_notify('tollgate_changes', $1)`, [
        JSON.stringify({ origin: 'elsewhere', change: suspended }),
      ]);
      await waitFor('a change after reconnecting', () =>
        watcher.heard.find((h) => h.change.scope === 'account'),
      );
    } finally {
      await admin.end();
    }
  });
});
