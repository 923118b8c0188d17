/**
 * Runs a shutdown's steps in order, each even when an earlier one failed: a database that is gone
 * makes the ledger's farewell fail, and that must not keep the pool, the upstream connections or
 * the log open. Each failure is reported; the first is thrown once every step has run.
 */
export async function runShutdownSteps(
  steps: readonly (readonly [name: string, step: () => unknown])[],
  report: (error: unknown, step: string) => void,
): Promise<void> {
  let first: { error: unknown } | undefined;
  for (const [name, step] of steps) {
    try {
      await step();
    } catch (error) {
      report(error, name);
      first ??= { error };
    }
  }
  if (first) throw first.error;
}
