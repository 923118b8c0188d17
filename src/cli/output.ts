/** A failure the user caused (bad argument, unknown id): printed as one line, exit code 1, no stack. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function print(json: boolean | undefined, value: unknown, human: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${human()}\n`);
}

export function formatTime(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString();
}
