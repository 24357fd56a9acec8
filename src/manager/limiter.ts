import pLimit, { type LimitFunction } from 'p-limit';

/**
 * The one limiter of a manager: every API request, polls and cancels together, runs through one
 * p-limit. Cancels are queued in it; polls are handed in only while a slot is free and nothing waits,
 * so a queued cancel always starts before the next poll. p-limit has no priorities, hence this split.
 */
export class Limiter {
  readonly #limit: LimitFunction;
  readonly #onRelease: () => void;
  #submitted = 0;

  constructor(concurrency: number, onRelease: () => void) {
    this.#limit = pLimit(concurrency);
    this.#onRelease = onRelease;
  }

  /** The cap on requests in flight. */
  get concurrency(): number {
    return this.#limit.concurrency;
  }

  /** Requests running or queued. */
  get load(): number {
    return this.#submitted;
  }

  /** True when a poll may start now without waiting behind anything. */
  get hasFreeSlot(): boolean {
    return this.#submitted < this.#limit.concurrency;
  }

  /** Runs `task` when a slot is free; cancels use this directly and may queue. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    this.#submitted++;
    try {
      return await this.#limit(task);
    } finally {
      this.#submitted--;
      this.#onRelease();
    }
  }
}
