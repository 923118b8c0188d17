import pg from 'pg';
import { type Change, type ChangeFeed, parseChange } from '../ports/change-feed.js';
import { reconnectDelayMs } from '../redis/connect.js';
import { FeedListeners } from './feed-listeners.js';
import type { FeedLog } from './redis-change-feed.js';

/** NOTIFY's channel; a payload is at most 8000 bytes, and a change is a few dozen. */
export const CHANGES_CHANNEL = 'tollgate_changes';
/** How often the listening connection proves it is alive (a lost network path sends no FIN). */
const HEARTBEAT_MS = 1_000;
const HEARTBEAT_TIMEOUT_MS = 500;

/** Where NOTIFY is sent from: the process's pool, already connected. */
export interface NotifyPool {
  query(text: string, values: unknown[]): Promise<unknown>;
}

/**
 * Changes over PostgreSQL's LISTEN/NOTIFY, for one instance without Redis: the CLI's changes reach
 * the server the way SQLite's `data_version` does today. One dedicated connection, outside the
 * pool (a LISTEN belongs to its session), reconnected with backoff; while it is down, caches are
 * emptied twice a second (FeedListeners), and once more when it is back.
 *
 * The listening connection is opened by the first `subscribe`. Changes are sent through `pool`
 * when given (the CLI's would otherwise open a connection after its change, which costs a
 * round of authentication before the server hears of it).
 */
export class PgNotifyChangeFeed implements ChangeFeed {
  private readonly listeners: FeedListeners;
  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client | undefined> | undefined;
  private listening = false;
  private attempts = 0;
  private closed = false;
  private heartbeat: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private down = false;

  constructor(
    private readonly connectionString: string,
    private readonly instanceId: string,
    private readonly log: FeedLog & { info(details: Record<string, unknown>, message: string): void },
    private readonly pool?: NotifyPool,
  ) {
    this.listeners = new FeedListeners((error) =>
      log.error({ err: error }, 'a cache failed to forget a change'),
    );
  }

  subscribe(listener: (change: Change) => void): void {
    this.listeners.add(listener);
    if (!this.listening) {
      this.listening = true;
      void this.connect();
    }
  }

  isLive(): boolean {
    return this.listeners.isLive();
  }

  async publish(change: Change): Promise<void> {
    const error = await this.send(change);
    if (error !== undefined)
      this.log.warn(
        { err: error, change: change.scope },
        'could not notify other processes of a change: they learn of it when their caches expire',
      );
  }

  /** One attempt, nothing logged: whether PostgreSQL took the notification. */
  async publishOnce(change: Change): Promise<boolean> {
    return (await this.send(change)) === undefined;
  }

  /** Undefined once sent; otherwise why not. */
  private async send(change: Change): Promise<unknown> {
    const values = [CHANGES_CHANNEL, JSON.stringify({ origin: this.instanceId, change })];
    try {
      const sender = this.pool ?? (await this.connect());
      if (!sender) throw new Error('not connected');
      await sender.query('SELECT pg_notify($1, $2)', values);
      return undefined;
    } catch (error) {
      return error ?? new Error('NOTIFY failed');
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.close();
    clearInterval(this.heartbeat);
    clearTimeout(this.retry);
    await this.connecting;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  private connect(): Promise<pg.Client | undefined> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async open(): Promise<pg.Client | undefined> {
    if (this.closed) return undefined;
    // Named, so that an operator can tell it apart in pg_stat_activity.
    const client = new pg.Client({
      connectionString: this.connectionString,
      application_name: `tollgate-changes-${this.instanceId}`.slice(0, 63),
    });
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    client.on('notification', (message) => {
      if (message.channel === CHANGES_CHANNEL) this.receive(message.payload ?? '');
    });
    try {
      await client.connect();
      if (this.listening) await client.query(`LISTEN ${CHANGES_CHANNEL}`);
    } catch {
      client.end().catch(() => {});
      this.lost(client);
      return undefined;
    }
    if (this.closed) {
      await client.end().catch(() => {});
      return undefined;
    }
    this.client = client;
    this.attempts = 0;
    if (this.listening) this.startHeartbeat(client);
    this.setUp(true);
    return client;
  }

  /** Reconnects with backoff, but only a listener needs a standing connection. */
  private lost(client: pg.Client): void {
    if (this.client === client) this.client = undefined;
    clearInterval(this.heartbeat);
    if (this.closed) return;
    this.setUp(false);
    if (!this.listening || this.retry) return;
    this.retry = setTimeout(
      () => {
        this.retry = undefined;
        void this.connect();
      },
      reconnectDelayMs(++this.attempts),
    );
    this.retry.unref();
  }

  private startHeartbeat(client: pg.Client): void {
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => {
      const timer = setTimeout(() => {
        // A hung connection: drop it, so that the next one LISTENs again.
        client.end().catch(() => {});
        this.lost(client);
      }, HEARTBEAT_TIMEOUT_MS);
      client.query('SELECT 1').then(
        () => clearTimeout(timer),
        () => clearTimeout(timer),
      );
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  private setUp(up: boolean): void {
    if (this.listening) this.listeners.setLive(up);
    if (up === !this.down || !this.listening) return;
    this.down = !up;
    if (up) this.log.info({ dependency: 'postgres-notify' }, 'listening for changes again');
    else
      this.log.warn(
        { dependency: 'postgres-notify' },
        'lost the connection that listens for changes: key and account caches kept at most 1 second until it is back',
      );
  }

  private receive(payload: string): void {
    let envelope: { origin?: unknown; change?: unknown };
    try {
      envelope = JSON.parse(payload) as typeof envelope;
    } catch {
      envelope = {};
    }
    if (envelope.origin === this.instanceId) return;
    this.listeners.deliver(parseChange(envelope.change));
  }
}
