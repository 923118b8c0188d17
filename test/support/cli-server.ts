import { type ChildProcess, execFile, spawn } from 'node:child_process';
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

/** The built bin, as an operator runs it. */
export const BIN = path.resolve('bin/tollgate.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

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

export async function startCliServer(extraYaml = ''): Promise<CliServer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-cli-'));
  const upstream = await startFakeUpstream();
  writeFileSync(
    path.join(dir, 'tollgate.yaml'),
    configYaml(upstream.url, '', 'openai-compatible', extraYaml),
  );
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    TOLLGATE_KEY_SECRET: TEST_KEY_SECRET,
    TOLLGATE_DATABASE_URL: `sqlite:${path.join(dir, 'tollgate.db')}`,
    TOLLGATE_ENV_FILE: path.join(dir, 'none.env'),
    PORT: '0',
  };
  const config = loadConfig(path.join(dir, 'tollgate.yaml'), env);
  const server = spawn('node', [BIN, 'serve'], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const baseUrl = await new Promise<string>((resolve, reject) => {
    let seen = '';
    server.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const match = /"address":"(http:\/\/[^"]+)"/.exec(seen);
      if (match?.[1]) resolve(match[1]);
    });
    server.stderr?.on('data', () => {});
    server.once('exit', (code) => reject(new Error(`server exited with ${code}: ${seen}`)));
  });
  const cli = (args: string[], extraEnv: NodeJS.ProcessEnv = {}, stdin?: string) =>
    new Promise<CliResult>((resolve) => {
      const child = execFile(
        'node',
        [BIN, ...args],
        { env: { ...env, ...extraEnv }, cwd: dir },
        (error, stdout, stderr) => {
          resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
        },
      );
      child.stdin?.end(stdin ?? '');
    });
  return {
    dir,
    env,
    upstream,
    server,
    baseUrl,
    config,
    cli,
    async cliJson<T>(args: string[]): Promise<T> {
      const result = await cli([...args, '--json']);
      if (result.code !== 0) throw new Error(`tollgate ${args.join(' ')} failed: ${result.stderr}`);
      return JSON.parse(result.stdout) as T;
    },
    seedAccount: (options) => seedAccount(config, options),
    seedKey: (accountId, options) => seedKey(config, accountId, options),
    balancesOf: (accountId) => balancesOf(config, accountId),
    services: (work) => withServicesBesideServer(config, work),
    async stop() {
      if (server.exitCode === null) {
        server.kill('SIGTERM');
        await new Promise((resolve) => server.once('exit', resolve));
      }
      await upstream.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
