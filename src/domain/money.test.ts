import { describe, expect, it } from 'vitest';
import { formatUsd, MICROS_PER_USD, microsToWholeCents, parseUsd } from './money.js';

describe('parseUsd', () => {
  it('reads whole dollars and cents exactly as micro-USD', () => {
    expect(parseUsd('5')).toBe(5_000_000);
    expect(parseUsd('5.00')).toBe(5_000_000);
    expect(parseUsd('0.01')).toBe(10_000);
    expect(parseUsd('12.34')).toBe(12_340_000);
  });

  it('reads fractions down to one micro-USD without floating-point error', () => {
    expect(parseUsd('0.000001')).toBe(1);
    expect(parseUsd('0.1')).toBe(100_000);
    expect(parseUsd('0.3')).toBe(300_000);
    // 0.1 + 0.2 !== 0.3 in floating point; parsing must not go through a float.
    expect(parseUsd('0.29')).toBe(290_000);
    expect(parseUsd('1.005')).toBe(1_005_000);
    expect(parseUsd('4.35')).toBe(4_350_000);
    expect(parseUsd('123456789.999999')).toBe(123_456_789_999_999);
  });

  it('keeps leading zeros of the fraction in place', () => {
    expect(parseUsd('1.05')).toBe(1_050_000);
    expect(parseUsd('1.000050')).toBe(1_000_050);
  });

  it('ignores surrounding whitespace', () => {
    expect(parseUsd('  7.5 \n')).toBe(7_500_000);
  });

  it('refuses amounts with more than six decimal places instead of rounding them', () => {
    expect(parseUsd('0.0000001')).toBeUndefined();
    expect(parseUsd('1.1234567')).toBeUndefined();
  });

  it('refuses text that is not a plain non-negative decimal amount', () => {
    for (const text of [
      '',
      ' ',
      '-1',
      '+1',
      '1.',
      '.5',
      '1e3',
      '1,50',
      '$5',
      '5 USD',
      'NaN',
      'Infinity',
      '0x10',
      '1.2.3',
      '١٢',
    ]) {
      expect(parseUsd(text), text).toBeUndefined();
    }
  });

  it('refuses amounts of ten digits or more of whole dollars', () => {
    expect(parseUsd('999999999')).toBe(999_999_999 * MICROS_PER_USD);
    expect(parseUsd('1000000000')).toBeUndefined();
  });

  it('always gives a safe integer for an accepted amount', () => {
    const value = parseUsd('999999999.999999');
    expect(value).toBeDefined();
    expect(Number.isSafeInteger(value)).toBe(true);
  });
});

describe('microsToWholeCents', () => {
  it('converts whole cents exactly', () => {
    expect(microsToWholeCents(0)).toBe(0);
    expect(microsToWholeCents(10_000)).toBe(1);
    expect(microsToWholeCents(5_000_000)).toBe(500);
  });

  it('rounds down so a balance never shows money that is not there', () => {
    expect(microsToWholeCents(9_999)).toBe(0);
    expect(microsToWholeCents(19_999)).toBe(1);
    expect(microsToWholeCents(4_999_999)).toBe(499);
  });

  it('rounds a negative balance towards more debt, not less', () => {
    expect(microsToWholeCents(-1)).toBe(-1);
    expect(microsToWholeCents(-10_000)).toBe(-1);
  });
});

describe('formatUsd', () => {
  it('shows dollars with all six micro-USD digits', () => {
    expect(formatUsd(0)).toBe('$0.000000');
    expect(formatUsd(1)).toBe('$0.000001');
    expect(formatUsd(5_000_000)).toBe('$5.000000');
    expect(formatUsd(1_234_567)).toBe('$1.234567');
    expect(formatUsd(100_000_000_000)).toBe('$100000.000000');
  });

  it('puts the minus sign before the dollar sign for negative amounts', () => {
    expect(formatUsd(-1)).toBe('-$0.000001');
    expect(formatUsd(-2_500_000)).toBe('-$2.500000');
  });

  it('round-trips through parseUsd', () => {
    for (const micros of [0, 1, 99, 10_000, 1_000_000, 1_234_567, 987_654_321_012]) {
      expect(parseUsd(formatUsd(micros).slice(1))).toBe(micros);
    }
  });
});
