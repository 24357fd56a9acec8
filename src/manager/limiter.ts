import pLimit, { type LimitFunction } from 'p-limit';
import type { RequestOutcomes } from './health.js';

/**
 * The one limiter of a manager: every API request, polls and cancels together, runs through one
 * p-limit. Cancels are queued in it; polls are handed in only while a slot is free and nothing waits,
 * so a queued cancel always starts before the next poll. p-limit has no priorities, hence this split.
 */
export class Limiter {
  readonly #limit: LimitFunction;
  readonly #onRelease: () => void;
  readonly #outcomes: RequestOutcomes;
  #submitted = 0;

  /** `outcomes` learns how each request ended: every request of the manager runs here. */
  constructor(concurrency: number, onRelease: () => void, outcomes: RequestOutcomes) {
    this.#limit = pLimit(concurrency);
    this.#onRelease = onRelease;
    this.#outcomes = outcomes;
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
      const value = await this.#limit(task);
      this.#outcomes.succeeded();
      return value;
    } catch (error) {
      this.#outcomes.failed(error);
      throw error;
    } finally {
      this.#submitted--;
      this.#onRelease();
    }
  }
}
