/** Time and randomness come in through ports so that tests can control them. */
export interface Clock {
  now(): number;
}

export interface RandomSource {
  bytes(count: number): Uint8Array;
}

/** Where a service reports an anomaly it handled: one line, never a secret. */
export interface Warn {
  warn(details: Record<string, unknown>, message: string): void;
}
