import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BIN } from '../../support/cli-server.js';
import { type FakeUpstream, startFakeUpstream } from '../../support/fake-openai-upstream.js';
import { configYaml, TEST_KEY_SECRET } from '../../support/harness.js';

export const WEB_INDEX = path.resolve('dist/web/index.html');

/** `tollgate serve` in its own process, with the built dashboard, and the operator's CLI beside it. */
export interface DashboardServer {
  /** http://127.0.0.1:PORT, which is also the configured public URL that links are built from. */
  readonly baseUrl: string;
  readonly upstream: FakeUpstream;
  /** Runs `tollgate ARGS`, writing `stdin` to it; resolves with its output, throws when it fails. */
  cli(args: string[], stdin?: string): Promise<string>;
  stop(): Promise<void>;
}

/** A port nobody listens on now, so that the public URL can name it before the server starts. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function run(child: ChildProcess, label: string): Promise<string> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`${label} exited with ${code}: ${stderr || stdout}`)),
    );
  });
}

/** `dashboardYaml`: lines for the configuration's `dashboard:` block, indented by two spaces. */
export async function startDashboardServer(dashboardYaml: string): Promise<DashboardServer> {
  if (!existsSync(WEB_INDEX))
    throw new Error(`${WEB_INDEX} is missing: run \`npm run build\` before the browser tests`);
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-dashboard-'));
  const upstream = await startFakeUpstream();
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const yaml = configYaml(
    upstream.url,
    '',
    'openai-compatible',
    '',
    '',
    dashboardYaml,
    `  public_url: ${baseUrl}`,
  );
  writeFileSync(path.join(dir, 'tollgate.yaml'), yaml);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    TOLLGATE_KEY_SECRET: TEST_KEY_SECRET,
    TOLLGATE_DATABASE_URL: `sqlite:${path.join(dir, 'tollgate.db')}`,
    TOLLGATE_ENV_FILE: path.join(dir, 'none.env'),
    PORT: String(port),
    HOST: '127.0.0.1',
  };
  const server = spawn('node', [BIN, 'serve'], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    server.stdout?.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes(`"address":"${baseUrl}"`)) resolve();
    });
    server.stderr?.on('data', (chunk: Buffer) => {
      log += chunk.toString();
    });
    server.once('exit', (code) => reject(new Error(`tollgate serve exited with ${code}: ${log}`)));
  });

  return {
    baseUrl,
    upstream,
    cli(args, stdin) {
      const child = spawn('node', [BIN, ...args], { env, cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
      const done = run(child, `tollgate ${args.join(' ')}`);
      child.stdin?.end(stdin ?? '');
      return done;
    },
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
