import type { Micros } from './money.js';

/** An account's auto top-up: when a settlement takes prepaid credit below the threshold, ask for `amount`. */
export interface AutoTopup {
  readonly enabled: boolean;
  readonly thresholdMicros: Micros;
  readonly amountMicros: Micros;
}

export const AUTO_TOPUP_OFF: AutoTopup = { enabled: false, thresholdMicros: 0, amountMicros: 0 };

/**
 * One request at a time: while a top-up is pending (asked for, not yet paid or failed), another
 * settlement below the threshold asks for nothing more, so concurrent settlements ask exactly once.
 */
export function needsTopup(settings: AutoTopup, balanceAfter: Micros, pending: boolean): boolean {
  return settings.enabled && !pending && balanceAfter < settings.thresholdMicros;
}
