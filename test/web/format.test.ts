import { describe, expect, it } from 'vitest';
import { formatUsd } from '../../web/src/utils/format.js';

describe('the dashboard shows money', () => {
  it('with two decimals, and more only when a fraction of a cent is there', () => {
    expect(formatUsd('1.250000')).toBe('$1.25');
    expect(formatUsd('0.000000')).toBe('$0.00');
    expect(formatUsd('0.001234')).toBe('$0.001234');
    expect(formatUsd('12.345600')).toBe('$12.3456');
  });

  it('with thousands grouped, exactly as sent (no float rounding)', () => {
    expect(formatUsd('1234567.890001')).toBe('$1,234,567.890001');
    expect(formatUsd('9007199254740993.000001')).toBe('$9,007,199,254,740,993.000001');
  });

  it('leaves anything that is not an amount as it came', () => {
    expect(formatUsd('n/a')).toBe('n/a');
  });
});
