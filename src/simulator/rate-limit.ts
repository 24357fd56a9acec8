/**
 * The `rateLimit` fault: a token bucket on the simulator clock, so a test on a hand-moved clock can
 * spend the burst, read `Retry-After`, move the clock and be served again without waiting.
 * @module
 */
import type { SimulatorRateLimit } from './options.js';

/** Rounding slack, so a client that waits exactly the `Retry-After` it was given is served. */
const EPSILON = 1e-9;

/** A bucket of `burst` tokens, full at the start, refilled continuously at `requestsPerSecond`. */
export class TokenBucket {
  readonly #limit: SimulatorRateLimit;
  #tokens: number;
  /** When the tokens were last counted; unset until the first request, since the bucket starts full. */
  #countedAtMs: number | undefined;

  constructor(limit: SimulatorRateLimit) {
    this.#limit = limit;
    this.#tokens = limit.burst;
  }

  /**
   * Takes a token for a request arriving at `nowMs`: 0 if it got one, otherwise the `Retry-After` in whole
   * seconds (at least 1) until one is available.
   */
  take(nowMs: number): number {
    const { requestsPerSecond, burst } = this.#limit;
    // A clock moved backwards by a test refills nothing rather than draining the bucket.
    const elapsedMs = this.#countedAtMs === undefined ? 0 : Math.max(0, nowMs - this.#countedAtMs);
    this.#countedAtMs = Math.max(nowMs, this.#countedAtMs ?? nowMs);
    this.#tokens = Math.min(burst, this.#tokens + (elapsedMs * requestsPerSecond) / 1000);
    if (this.#tokens >= 1 - EPSILON) {
      this.#tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - this.#tokens) / requestsPerSecond - EPSILON));
  }
}

/** The `rateLimit` fault as given to `setFaults`: `null` (off) or a valid limit, copied and frozen. */
export function checkRateLimit(value: unknown): SimulatorRateLimit | null {
  if (value === null) return null;
  if (typeof value !== 'object') throw new TypeError(`faults.rateLimit must be { requestsPerSecond, burst } or null, got ${String(value)}`);
  const { requestsPerSecond, burst } = value as Record<string, unknown>;
  if (typeof requestsPerSecond !== 'number' || typeof burst !== 'number') {
    throw new TypeError(`faults.rateLimit.requestsPerSecond and .burst must be numbers, got ${String(requestsPerSecond)} and ${String(burst)}`);
  }
  if (!(requestsPerSecond > 0) || !Number.isFinite(requestsPerSecond)) {
    throw new RangeError(`faults.rateLimit.requestsPerSecond must be a finite number > 0, got ${requestsPerSecond}`);
  }
  if (!Number.isInteger(burst) || burst < 1) throw new RangeError(`faults.rateLimit.burst must be an integer ≥ 1, got ${burst}`);
  return Object.freeze({ requestsPerSecond, burst });
}
