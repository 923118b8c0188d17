import { describe, expect, it } from 'vitest';
import { AUTO_TOPUP_OFF, type AutoTopup, needsTopup } from './auto-topup.js';

const onAtTwoDollars: AutoTopup = { enabled: true, thresholdMicros: 2_000_000, amountMicros: 25_000_000 };

describe('needsTopup', () => {
  it('asks for a top-up when a settlement takes the balance below the threshold', () => {
    expect(needsTopup(onAtTwoDollars, 1_999_999, false)).toBe(true);
    expect(needsTopup(onAtTwoDollars, 0, false)).toBe(true);
  });

  it('asks for one when the balance is overdrawn', () => {
    expect(needsTopup(onAtTwoDollars, -500, false)).toBe(true);
  });

  it('asks for nothing while the balance is at or above the threshold', () => {
    expect(needsTopup(onAtTwoDollars, 2_000_000, false)).toBe(false);
    expect(needsTopup(onAtTwoDollars, 50_000_000, false)).toBe(false);
  });

  it('asks only once while a top-up is already pending', () => {
    expect(needsTopup(onAtTwoDollars, 100, true)).toBe(false);
  });

  it('never asks when auto top-up is off, however low the balance', () => {
    expect(needsTopup(AUTO_TOPUP_OFF, -1_000_000, false)).toBe(false);
    expect(needsTopup({ ...onAtTwoDollars, enabled: false }, 0, false)).toBe(false);
  });
});
