import type { Clock } from './clock.js';

/** setTimeout's longest delay; a later moment is reached in several steps. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * At most one timer on the manager's clock, for an absolute moment: arming it again moves it, and a
 * moment past setTimeout's range is reached in steps instead of firing early.
 */
export class Alarm {
  readonly #clock: Clock;
  readonly #onFire: () => void;
  #timer: unknown;
  #at = Number.POSITIVE_INFINITY;

  constructor(clock: Clock, onFire: () => void) {
    this.#clock = clock;
    this.#onFire = onFire;
  }

  /** Fires at `at` (epoch milliseconds); `Infinity` disarms. */
  set(at: number): void {
    if (at === this.#at && this.#timer !== undefined) return;
    this.clear();
    if (at === Number.POSITIVE_INFINITY) return;
    this.#at = at;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, at - this.#clock.now()));
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      if (this.#clock.now() < this.#at) return this.set(this.#at);
      this.#at = Number.POSITIVE_INFINITY;
      this.#onFire();
    }, delay);
  }

  clear(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#at = Number.POSITIVE_INFINITY;
  }
}
