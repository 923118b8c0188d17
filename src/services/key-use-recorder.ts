import type { KeyUse, KeyUseSink } from '../ports/keys.js';

/**
 * Remembers each key's last use and client IP, and writes them in one batch a second rather than
 * once per request: the dashboard needs them fresh to the second, the hot path does not need a write.
 */
export class KeyUseRecorder {
  private pending = new Map<string, KeyUse>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly keys: KeyUseSink,
    private readonly onError: (error: unknown) => void,
    private readonly intervalMs = 1_000,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.intervalMs);
    this.timer.unref();
  }

  record(use: KeyUse): void {
    this.pending.set(use.keyId, use);
  }

  flush(): Promise<void> {
    if (this.pending.size === 0) return this.flushing;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    this.flushing = this.flushing.then(() => this.keys.recordUses(batch)).catch(this.onError);
    return this.flushing;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }
}
