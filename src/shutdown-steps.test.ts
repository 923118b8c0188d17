import { describe, expect, it } from 'vitest';
import { runShutdownSteps } from './shutdown-steps.js';

describe('runShutdownSteps', () => {
  it('runs every step after one fails, reports each failure and throws the first', async () => {
    const ran: string[] = [];
    const reported: string[] = [];
    const gone = new Error('database is gone');
    const outcome = runShutdownSteps(
      [
        ['ledger', () => Promise.reject(gone)],
        ['upstream connections', () => ran.push('upstream connections')],
        ['database', () => Promise.reject(new Error('already ended'))],
        ['log', () => ran.push('log')],
      ],
      (_error, step) => reported.push(step),
    );
    await expect(outcome).rejects.toBe(gone);
    expect(ran).toEqual(['upstream connections', 'log']);
    expect(reported).toEqual(['ledger', 'database']);
  });

  it('resolves when every step does', async () => {
    const ran: number[] = [];
    await runShutdownSteps(
      [
        ['one', () => ran.push(1)],
        ['two', async () => ran.push(2)],
      ],
      () => expect.unreachable(),
    );
    expect(ran).toEqual([1, 2]);
  });
});
