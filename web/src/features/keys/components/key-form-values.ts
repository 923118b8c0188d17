import type { LimitPeriod } from '../api/keys';

export const LIMIT_PERIOD_OPTIONS: { value: LimitPeriod; label: string }[] = [
  { value: 'month', label: 'Per month' },
  { value: 'week', label: 'Per week' },
  { value: 'day', label: 'Per day' },
  { value: 'lifetime', label: 'For the key’s lifetime' },
];

/** One address or range a line (commas work too); blank lines are ignored. */
export function parseAllowlist(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
}

const USD = /^\d+(\.\d{1,6})?$/;

/** A positive amount in dollars, up to the micro-dollar; undefined when empty, an error text when bad. */
export function checkUsd(text: string): { usd?: string; error?: string } {
  const trimmed = text.trim().replace(/^\$/, '');
  if (trimmed === '') return {};
  if (!USD.test(trimmed) || /^0*(\.0*)?$/.test(trimmed))
    return { error: 'Enter a positive amount in dollars, such as 25 or 12.50.' };
  return { usd: trimmed };
}
