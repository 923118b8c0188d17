/**
 * Money is an integer number of micro-USD from the first line that touches it to the last.
 * A JS number holds integers exactly up to 2^53 micro-USD (about nine billion dollars), far above any balance.
 */
export type Micros = number;

export const MICROS_PER_USD = 1_000_000;
const MICROS_PER_CENT = 10_000;
const USD_TEXT = /^(\d{1,9})(?:\.(\d{1,6}))?$/;

/** Parses a decimal USD amount such as "5.00" exactly, without passing through a float. */
export function parseUsd(text: string): Micros | undefined {
  const match = USD_TEXT.exec(text.trim());
  if (!match) return undefined;
  const whole = Number(match[1]);
  const fraction = Number((match[2] ?? '').padEnd(6, '0'));
  return whole * MICROS_PER_USD + fraction;
}

/** Cents for display and for `balance_usd_cents`: rounded down, so we never show money that is not there. */
export function microsToWholeCents(micros: Micros): number {
  return Math.floor(micros / MICROS_PER_CENT);
}

export function formatUsd(micros: Micros): string {
  const sign = micros < 0 ? '-' : '';
  const abs = Math.abs(micros);
  const whole = Math.floor(abs / MICROS_PER_USD);
  const fraction = String(abs % MICROS_PER_USD).padStart(6, '0');
  return `${sign}$${whole}.${fraction}`;
}

/** A decimal USD amount without a sign or symbol, such as "1.250000": for JSON and audit details. */
export function usdDecimal(micros: Micros): string {
  return formatUsd(micros).replace('$', '');
}
