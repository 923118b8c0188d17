/**
 * The arithmetic of a rate limit: `limit` units per `windowMs`, replenished continuously (the
 * generic cell rate algorithm, as a leaky bucket). A fixed window would let a client spend twice
 * its limit across a window boundary; and OpenAI's `x-ratelimit-reset-*` headers describe exactly
 * this bucket's quantity, the time until the limit is back to its initial state.
 *
 * The state is the units in use scaled by the window (`debt` = units × windowMs) and when it was
 * last read. Scaled so, every step is integer arithmetic on whole milliseconds: time drains
 * `limit` per millisecond and a unit costs `windowMs`. Epoch milliseconds times a rate would pass
 * 2^53, and floats drift; these values stay below limit × windowMs. A shared store keeps the two
 * numbers per limit, and an atomic script applies the same steps.
 */
export interface WindowLimit {
  /** Units per window; a positive integer. */
  readonly limit: number;
  /** A whole number of milliseconds. */
  readonly windowMs: number;
}

export interface WindowState {
  /** Units in use × windowMs, at `at`; 0 is a full limit. Negative never; above capacity after a correction. */
  readonly debt: number;
  readonly at: number;
}

export const FULL_WINDOW: WindowState = { debt: 0, at: 0 };

export type WindowTake =
  | { readonly ok: true; readonly state: WindowState }
  /** `retryAfterMs` is undefined when the cost is more than the whole limit: waiting never helps. */
  | { readonly ok: false; readonly retryAfterMs: number | undefined };

/**
 * The state at `now`: what time has drained. A clock that reads earlier than the state (another
 * instance's, a step back) drains nothing rather than adding debt.
 */
export function drainedWindow(window: WindowLimit, state: WindowState, now: number): WindowState {
  if (now <= state.at) return state;
  return { debt: Math.max(0, state.debt - (now - state.at) * window.limit), at: now };
}

/** Takes `cost` units at `now` if the limit has room for all of them, else says how long to wait. */
export function takeFromWindow(
  window: WindowLimit,
  state: WindowState,
  cost: number,
  now: number,
): WindowTake {
  if (cost > window.limit) return { ok: false, retryAfterMs: undefined };
  const current = drainedWindow(window, state, now);
  const debt = current.debt + cost * window.windowMs;
  const over = debt - window.limit * window.windowMs;
  if (over > 0) return { ok: false, retryAfterMs: Math.ceil(over / window.limit) };
  return { ok: true, state: { debt, at: current.at } };
}

/**
 * Moves the state by `delta` units taken (positive) or given back (negative): tokens counted at
 * their ceiling at admission, corrected to the real count at settlement. Giving back never makes
 * the limit fuller than full.
 */
export function correctWindow(
  window: WindowLimit,
  state: WindowState,
  delta: number,
  now: number,
): WindowState {
  const current = drainedWindow(window, state, now);
  return { debt: Math.max(0, current.debt + delta * window.windowMs), at: current.at };
}

/** Units that can still be taken at `now`, from 0 to the limit. */
export function remainingInWindow(window: WindowLimit, state: WindowState, now: number): number {
  const { debt } = drainedWindow(window, state, now);
  return Math.max(0, Math.floor((window.limit * window.windowMs - debt) / window.windowMs));
}

/** Milliseconds until the limit is back to its initial state (OpenAI's "reset"). */
export function resetOfWindow(window: WindowLimit, state: WindowState, now: number): number {
  return Math.ceil(drainedWindow(window, state, now).debt / window.limit);
}
