/** Time and randomness come in through ports so that tests can control them. */
export interface Clock {
  now(): number;
}

export interface RandomSource {
  bytes(count: number): Uint8Array;
}
