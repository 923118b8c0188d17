import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import {
  installAdvice,
  missingDependencies,
  postgresBinDir,
  SYSTEM_DEPENDENCIES,
} from '../../scripts/system-deps.mjs';

/**
 * Real PostgreSQL and Redis servers for the tests, each on a free loopback port with a temporary
 * data directory, stopped (and the directory removed) by `stop()`. Nothing is mocked: the stores and
 * the cluster run against the same servers an operator would.
 */

function dependency(debianPackage: string) {
  const found = SYSTEM_DEPENDENCIES.find((d) => d.debianPackage === debianPackage);
  if (!found) throw new Error(`scripts/system-deps.mjs no longer lists ${debianPackage}`);
  return found;
}

/** Why the PostgreSQL suites skip, or undefined when they can run. */
export function postgresMissing(): string | undefined {
  const dep = dependency('postgresql');
  return missingDependencies([dep]).length > 0 ? installAdvice(dep) : undefined;
}

/** Why the Redis suites skip, or undefined when they can run. */
export function redisMissing(): string | undefined {
  const dep = dependency('redis-server');
  return missingDependencies([dep]).length > 0 ? installAdvice(dep) : undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const isRoot = () => process.getuid?.() === 0;

/** PostgreSQL refuses to run as root: as root its programs run as Debian's `postgres` user. */
function asPostgres(program: string, args: string[]): { command: string; args: string[] } {
  return isRoot()
    ? { command: 'runuser', args: ['-u', 'postgres', '--', program, ...args] }
    : { command: program, args };
}

async function waitFor(what: string, attempt: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await attempt().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} did not start within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()));
}

export interface PostgresServer {
  /** A URL of the server's `postgres` database, as its superuser (password included: tests only). */
  readonly url: string;
  readonly port: number;
  readonly password: string;
  /** A new empty database; returns its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Shuts the server down, keeping its data, as an outage would; `restart` brings it back on the same port. */
  halt(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface PostgresOptions {
  /**
   * Keep fsync and synchronous commit on, as in production (the benchmark). Off by default: the
   * tests kill Tollgate processes, never the database server, and run several times faster without.
   */
  readonly durable?: boolean;
  readonly maxConnections?: number;
}

let databaseCounter = 0;

export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer> {
  const bin = postgresBinDir();
  if (!bin) throw new Error(postgresMissing() ?? 'PostgreSQL not found');
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-pg-'));
  const data = path.join(dir, 'data');
  const password = randomBytes(12).toString('hex');
  const passwordFile = path.join(dir, 'password');
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  if (isRoot()) {
    const { uid, gid } = postgresIds();
    chownSync(dir, uid, gid);
    chownSync(passwordFile, uid, gid);
  }
  chmodSync(dir, 0o700);
  const init = asPostgres(path.join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    'postgres',
    '--pwfile',
    passwordFile,
    '--auth-host=scram-sha-256',
    '--auth-local=trust',
    '-E',
    'UTF8',
    '--locale=C',
    '--no-sync',
  ]);
  execFileSync(init.command, init.args, { stdio: 'pipe' });
  const port = await freePort();
  const settings = [
    ['listen_addresses', '127.0.0.1'],
    ['port', String(port)],
    ['unix_socket_directories', dir],
    ['max_connections', String(options.maxConnections ?? 200)],
    ...(options.durable
      ? []
      : [
          ['fsync', 'off'],
          ['synchronous_commit', 'off'],
          ['full_page_writes', 'off'],
        ]),
  ];
  const run = asPostgres(path.join(bin, 'postgres'), [
    '-D',
    data,
    ...settings.flatMap(([name, value]) => ['-c', `${name}=${value}`]),
  ]);
  let log = '';
  const launch = () => {
    const started = spawn(run.command, run.args, { stdio: ['ignore', 'ignore', 'pipe'] });
    started.stderr?.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-4000);
    });
    return started;
  };
  let child = launch();
  const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  const query = async (sql: string) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  const answering = () =>
    waitFor(
      'PostgreSQL',
      async () => {
        if (child.exitCode !== null) throw new Error(`postgres exited: ${log}`);
        await query('SELECT 1');
        return true;
      },
      60_000,
    );
  try {
    await answering();
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${(error as Error).message}\n${log}`);
  }
  const halt = async () => {
    // SIGINT is PostgreSQL's "fast shutdown": sessions are ended, nothing waits for clients. It
    // goes to the postmaster itself: runuser does not pass SIGINT on, so signalling runuser left
    // the server running until the SIGKILL below, which then orphaned it.
    const postmaster = postmasterPid(data);
    const signal = (name: NodeJS.Signals) => {
      try {
        if (postmaster) process.kill(postmaster, name);
      } catch {
        // Already gone.
      }
      child.kill(name);
    };
    signal('SIGINT');
    const timer = setTimeout(() => signal('SIGKILL'), 10_000);
    await exited(child);
    clearTimeout(timer);
  };
  return {
    url,
    port,
    password,
    async createDatabase(name = `tollgate_${process.pid}_${++databaseCounter}`) {
      await query(`CREATE DATABASE ${name}`);
      return `postgres://postgres:${password}@127.0.0.1:${port}/${name}`;
    },
    halt,
    async restart() {
      child = launch();
      await answering();
    },
    async stop() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The first line of postmaster.pid, which PostgreSQL writes once it runs. */
function postmasterPid(data: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function postgresIds(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  /** SIGKILL: the outage a crashed or partitioned Redis looks like. */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty (nothing is persisted). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function pingRedis(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let answer = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString();
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
  });
}

export async function startRedis(): Promise<RedisServer> {
  const program = '/usr/bin/redis-server';
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-redis-'));
  let child: ChildProcess | undefined;
  const start = async () => {
    const started = spawn(
      program,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      { stdio: 'ignore' },
    );
    child = started;
    await waitFor(
      'redis-server',
      async () => {
        if (started.exitCode !== null) throw new Error(`redis-server exited with ${started.exitCode}`);
        return pingRedis(port);
      },
      30_000,
    );
  };
  const kill = async () => {
    if (!child) return;
    const running = child;
    child = undefined;
    running.kill('SIGKILL');
    await exited(running);
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill,
    restart: start,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
