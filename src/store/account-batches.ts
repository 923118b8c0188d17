/** A step run inside a transaction, given the transaction's way to send a statement. */
export type InTransaction<R, T> = (run: R) => Promise<T>;

interface Job<R> {
  readonly work: InTransaction<R, unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** A job of the batch threw: the others may still be committed, each alone. */
class JobFailed extends Error {}

/**
 * Runs an account's transactions from this instance one batch at a time: the steps queued while a
 * batch runs go together into the next one, one transaction, one commit.
 *
 * They would wait for each other on the account's row lock anyway. Waiting here keeps one
 * connection and one lock waiter per instance and account rather than one per request (a hot
 * account cannot take every connection of the pool from the others), and a batch shares its
 * BEGIN, COMMIT and WAL flush: on one account, the commit is what bounds the rate.
 *
 * Every step is answered after the COMMIT of its batch. A step that throws fails the batch before
 * COMMIT is sent (nothing was committed), and each step of it then runs in a transaction of its
 * own, so that only the one at fault fails. A batch whose COMMIT fails is not run again: it may
 * have been committed.
 */
export class AccountBatches<R> {
  private readonly queues = new Map<string, Job<R>[]>();

  constructor(
    private readonly transaction: <T>(work: InTransaction<R, T>) => Promise<T>,
    private readonly maxBatch = 64,
  ) {}

  run<T>(accountId: string, work: InTransaction<R, T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const job: Job<R> = { work, resolve: resolve as (value: unknown) => void, reject };
      const queue = this.queues.get(accountId);
      if (queue) {
        queue.push(job);
        return;
      }
      this.queues.set(accountId, [job]);
      void this.drain(accountId);
    });
  }

  private async drain(accountId: string): Promise<void> {
    for (;;) {
      const queue = this.queues.get(accountId)!;
      if (queue.length === 0) {
        this.queues.delete(accountId);
        return;
      }
      await this.runBatch(queue.splice(0, this.maxBatch));
    }
  }

  private async runBatch(batch: readonly Job<R>[]): Promise<void> {
    if (batch.length > 1) {
      let results: unknown[];
      try {
        results = await this.transaction(async (run) => {
          const out: unknown[] = [];
          for (const job of batch) {
            try {
              out.push(await job.work(run));
            } catch (error) {
              throw new JobFailed(error instanceof Error ? error.message : String(error));
            }
          }
          return out;
        });
      } catch (error) {
        if (!(error instanceof JobFailed)) {
          for (const job of batch) job.reject(error);
          return;
        }
        for (const job of batch) await this.runAlone(job);
        return;
      }
      batch.forEach((job, i) => {
        job.resolve(results[i]);
      });
      return;
    }
    await this.runAlone(batch[0]!);
  }

  private async runAlone(job: Job<R>): Promise<void> {
    try {
      job.resolve(await this.transaction(job.work));
    } catch (error) {
      job.reject(error);
    }
  }
}
