import { type ChildProcess, spawn } from 'node:child_process';

/**
 * Each system under test runs in its own process, so the load generator never shares an event loop
 * with what it measures. A child reports readiness by printing a line that `ready` recognises.
 */
export interface Child {
  readonly process: ChildProcess;
  readonly url: string;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();

// Whatever happens to the bench, no server is left running behind it.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of children) child.kill('SIGKILL');
    process.exit(130);
  });
}
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

export function startChild(
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: (output: string) => string | undefined,
): Promise<Child> {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  return new Promise((resolve, reject) => {
    let output = '';
    let found = false;
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start: ${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      if (found) return;
      output += chunk.toString();
      const url = ready(output);
      if (!url) return;
      found = true;
      clearTimeout(timer);
      // Keep draining its output (logs) so the child never blocks on a full pipe.
      resolve({
        process: child,
        url,
        stop: () =>
          new Promise<void>((done) => {
            child.once('exit', () => done());
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
          }).finally(() => children.delete(child)),
      });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      if (!found) output += chunk.toString();
    });
    child.once('exit', (code) => {
      children.delete(child);
      if (!found) {
        clearTimeout(timer);
        reject(new Error(`${args.join(' ')} exited with ${code}: ${output}`));
      }
    });
  });
}

/** Children print `{"url":"http://127.0.0.1:PORT"}` when they listen. */
export function urlLine(output: string): string | undefined {
  return /\{"url":"(http:\/\/[^"]+)"\}/.exec(output)?.[1];
}
