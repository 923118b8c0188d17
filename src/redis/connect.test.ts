import { describe, expect, it } from 'vitest';
import { reconnectDelayMs } from './connect.js';

describe('reconnect delays', () => {
  it('grow from 50 ms to at most 2 s, with jitter of a quarter either way', () => {
    const middle = () => 0.5;
    expect([1, 2, 3, 4, 5, 6, 7, 20].map((n) => reconnectDelayMs(n, middle))).toEqual([
      50, 100, 200, 400, 800, 1600, 2000, 2000,
    ]);
    expect(reconnectDelayMs(20, () => 0)).toBe(1500);
    expect(reconnectDelayMs(20, () => 1)).toBe(2500);
  });
});
