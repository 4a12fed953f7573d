// How long the client waits before each reconnection attempt.

/** The defaults of the `backoff` option. */
export const DEFAULT_BACKOFF = Object.freeze({ initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0.5 });

/** The longest delay `setTimeout` keeps (a longer one fires at once). */
export const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * Exponential backoff with jitter: the n-th delay (from 0) is
 * `min(maxMs, initialMs * factor ** n)`, less a random part of up to `jitter`
 * of it, so that clients dropped together (a gateway restart) do not all come
 * back at once. `reset` starts again from `initialMs`.
 */
export class Backoff {
  #initialMs;
  #maxMs;
  #factor;
  #jitter;
  #random;
  /** The next delay before jitter. */
  #nextMs;

  /** `options` as the client's `backoff` option; `random` returns a number in [0, 1). */
  constructor(options = {}, random = Math.random) {
    const { initialMs, maxMs, factor, jitter } = { ...DEFAULT_BACKOFF, ...options };
    this.#initialMs = check("backoff.initialMs", initialMs, 0, MAX_DELAY_MS);
    this.#maxMs = check("backoff.maxMs", maxMs, initialMs, MAX_DELAY_MS);
    this.#factor = check("backoff.factor", factor, 1, Number.MAX_SAFE_INTEGER);
    this.#jitter = check("backoff.jitter", jitter, 0, 1);
    this.#random = random;
    this.#nextMs = initialMs;
  }

  /** The delay before the next attempt, in milliseconds. */
  next() {
    const full = this.#nextMs;
    this.#nextMs = Math.min(this.#maxMs, full * this.#factor);
    return Math.round(full * (1 - this.#jitter * this.#random()));
  }

  /** After a success: the next delay is the first again. */
  reset() {
    this.#nextMs = this.#initialMs;
  }
}

/** `value` if it is a number in [min, max]; a RangeError naming `name` if not. */
export function check(name, value, min, max) {
  if (typeof value !== "number" || !(value >= min && value <= max)) {
    throw new RangeError(`${name} must be a number from ${min} to ${max}, not ${value}`);
  }
  return value;
}
