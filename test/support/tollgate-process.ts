import { type ChildProcess, execFile, spawn } from 'node:child_process';
import path from 'node:path';

/** The built bin, as an operator runs it. */
export const BIN = path.resolve('bin/tollgate.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ServeProcess {
  readonly child: ChildProcess;
  /** http://127.0.0.1:PORT, as the server logged it once listening. */
  readonly baseUrl: string;
  /** The server's log so far (its standard output), for a failing test to show. */
  log(): string;
}

/**
 * `tollgate serve` in its own process, resolved once it logs the address it listens on. The
 * server's log is kept (the last 64 kB) so that a test can say why an instance misbehaved.
 */
export function spawnServe(env: NodeJS.ProcessEnv, cwd: string): Promise<ServeProcess> {
  const child = spawn('node', [BIN, 'serve'], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let seen = '';
  const keep = (chunk: Buffer) => {
    seen = (seen + chunk.toString()).slice(-65_536);
  };
  child.stderr?.on('data', keep);
  return new Promise<ServeProcess>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      keep(chunk);
      const match = /"address":"(http:\/\/[^"]+)"/.exec(seen);
      if (match?.[1]) {
        child.off('exit', onExit);
        resolve({ child, baseUrl: match[1], log: () => seen });
      }
    };
    const onExit = (code: number | null) => reject(new Error(`server exited with ${code}: ${seen}`));
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}

/** Runs one `tollgate` command with `env` in `cwd`; `stdin` is what it reads on standard input. */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  stdin?: string,
): Promise<CliResult> {
  return new Promise<CliResult>((resolve) => {
    const child = execFile('node', [BIN, ...args], { env, cwd }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
    child.stdin?.end(stdin ?? '');
  });
}

/** Runs a command with --json and parses its output; throws when it fails. */
export async function runCliJson<T>(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<T> {
  const result = await runCli([...args, '--json'], env, cwd);
  if (result.code !== 0) throw new Error(`tollgate ${args.join(' ')} failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

/** Whether the process has ended, by exit or by signal. */
export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** SIGTERM (or the given signal), then waits for the process to end. */
export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (hasExited(child)) return;
  const ended = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await ended;
}
