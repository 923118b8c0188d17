import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Config, loadConfig } from '../../src/config/load-config.js';
import { type FakeUpstream, startFakeUpstream } from './fake-openai-upstream.js';
import { configYaml, TEST_KEY_SECRET } from './harness.js';
import {
  balancesOf,
  type SeedAccountOptions,
  type SeedKeyOptions,
  type ServicesBesideServer,
  seedAccount,
  seedKey,
  withServicesBesideServer,
} from './services-beside-server.js';
import { type CliResult, runCli, runCliJson, spawnServe, stopProcess } from './tollgate-process.js';

export { BIN, type CliResult } from './tollgate-process.js';

/** `tollgate serve` in its own process on a temporary SQLite database, and the CLI beside it. */
export interface CliServer {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly upstream: FakeUpstream;
  readonly server: ChildProcess;
  readonly baseUrl: string;
  /** The configuration the server and the CLI read, as loaded with their environment. */
  readonly config: Config;
  /** `stdin`: what the command reads on standard input (a password for --password-stdin). */
  cli(args: string[], extraEnv?: NodeJS.ProcessEnv, stdin?: string): Promise<CliResult>;
  /** Runs a command with --json and parses its output; throws when it fails. */
  cliJson<T>(args: string[]): Promise<T>;
  /** Seeds through the services in this process, for tests whose subject is not the CLI. */
  seedAccount(options?: SeedAccountOptions): Promise<string>;
  seedKey(accountId: string, options?: SeedKeyOptions): Promise<{ id: string; key: string }>;
  balancesOf(accountId: string): Promise<{ prepaid: number; subscriptionRemaining: number | undefined }>;
  /** Reads (or writes) through the services in this process, as the CLI would, without a process. */
  services<T>(work: (services: ServicesBesideServer) => Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

/** `databaseUrl`: another database than the temporary SQLite file (a PostgreSQL URL). */
export async function startCliServer(extraYaml = '', databaseUrl?: string): Promise<CliServer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-cli-'));
  const upstream = await startFakeUpstream();
  writeFileSync(
    path.join(dir, 'tollgate.yaml'),
    configYaml(upstream.url, '', 'openai-compatible', extraYaml),
  );
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    TOLLGATE_KEY_SECRET: TEST_KEY_SECRET,
    TOLLGATE_DATABASE_URL: databaseUrl ?? `sqlite:${path.join(dir, 'tollgate.db')}`,
    TOLLGATE_ENV_FILE: path.join(dir, 'none.env'),
    PORT: '0',
  };
  const config = loadConfig(path.join(dir, 'tollgate.yaml'), env);
  const { child: server, baseUrl } = await spawnServe(env, dir);
  const cli = (args: string[], extraEnv: NodeJS.ProcessEnv = {}, stdin?: string) =>
    runCli(args, { ...env, ...extraEnv }, dir, stdin);
  return {
    dir,
    env,
    upstream,
    server,
    baseUrl,
    config,
    cli,
    cliJson: <T>(args: string[]) => runCliJson<T>(args, env, dir),
    seedAccount: (options) => seedAccount(config, options),
    seedKey: (accountId, options) => seedKey(config, accountId, options),
    balancesOf: (accountId) => balancesOf(config, accountId),
    services: (work) => withServicesBesideServer(config, work),
    async stop() {
      await stopProcess(server);
      await upstream.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
