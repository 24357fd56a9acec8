import pLimit, { type LimitFunction } from 'p-limit';
import { RateLimitError } from '../errors/classes.js';
import type { RequestOutcomes } from './health.js';

/**
 * Successes a step up takes at the least. At a low limit successes come quickly, and a step over the
 * server's rate costs a 429: this keeps such probes to about one in this many requests.
 */
const MIN_SUCCESSES_PER_STEP = 32;

/**
 * What a decrease leaves of the limit. Halving, as TCP does, gives up more of the allowed rate after
 * each run of 429s: with 5 slots right (50 requests/s at 100 ms) it used 0.90 to 0.95 of the rate in
 * trial runs of bench/adaptive.ts, a quarter off 0.97. A run of blips under load costs less too.
 */
const DECREASE = 0.75;

/**
 * 429s in a row (no other outcome between them) that say the limit is over the server's rate. An API
 * may refuse a few requests at any rate: at a 5 % blip rate, two in a row come a few times a second
 * under load (the chaos test), three seldom; a limit over a token bucket meets an empty bucket at once.
 */
const RUN_OF_REFUSALS = 3;

/**
 * The one limiter of a manager: every API request, polls and cancels together, runs through one
 * p-limit. Cancels are queued in it; polls are handed in only while a slot is free and nothing waits,
 * so a queued cancel always starts before the next poll. p-limit has no priorities, hence this split.
 *
 * Adaptive, its limit follows the server's rate limit, AIMD as TCP's congestion window, between 1 and
 * the configured cap:
 * - every `max(limit, MIN_SUCCESSES_PER_STEP)` successes raise it by one;
 * - a run of `RUN_OF_REFUSALS` 429s takes a quarter off it, and the limit it had becomes the ceiling.
 *   A 429 amid successes may be a blip, and lowering the limit for each would sink it: at a 5 % blip
 *   rate it would settle near 2;
 * - a 429 at or above the ceiling takes one step back: that step was a probe, and it failed. A 429
 *   below the ceiling, not in such a run, shows that blips come at any limit, so the ceiling is
 *   forgotten: else blips at the ceiling would take back every step up, and the limit could never climb;
 * - a 429 of a request sent before the last decrease lowers nothing further (a burst of them is one
 *   piece of news), but in a run it caps the limit at the requests still in flight.
 */
export class Limiter {
  readonly #limit: LimitFunction;
  readonly #max: number;
  readonly #adaptive: boolean;
  readonly #onRelease: () => void;
  readonly #outcomes: RequestOutcomes;
  #submitted = 0;
  /** Requests in their slot and not yet answered, counted here: p-limit frees a slot a few ticks later. */
  #running = 0;
  /** Decreases so far: a request counts as news only if none happened while it was out. */
  #epoch = 0;
  /** Successes since the last change of the limit. */
  #successes = 0;
  /** 429s in a row, up to the last request to end. */
  #refusals = 0;
  /** The limit at the last decrease that a run of 429s confirmed. */
  #ceiling = Number.POSITIVE_INFINITY;

  /**
   * `concurrency` is the cap; `adaptive` lets 429s lower the limit under it. `outcomes` learns how each
   * request ended: every request of the manager runs here.
   */
  constructor(concurrency: number, adaptive: boolean, onRelease: () => void, outcomes: RequestOutcomes) {
    this.#limit = pLimit(concurrency);
    this.#max = concurrency;
    this.#adaptive = adaptive;
    this.#onRelease = onRelease;
    this.#outcomes = outcomes;
  }

  /** The limit on requests in flight now: the cap, or less after 429s. */
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
      const value = await this.#limit(this.#adaptive ? () => this.#adapting(task) : task);
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

  /**
   * Runs in the slot, so the limit changes before p-limit hands the slot on: after a 429 the next queued
   * request waits for the lowered limit instead of going out at the old one. The epoch is read when the
   * request starts, not when it queues: waiting says nothing of the server's rate.
   */
  async #adapting<T>(task: () => Promise<T>): Promise<T> {
    const epoch = this.#epoch;
    this.#running++;
    try {
      const value = await task();
      this.#refusals = 0;
      if (epoch === this.#epoch) this.#succeeded();
      return value;
    } catch (error) {
      if (error instanceof RateLimitError) {
        this.#refusals++;
        this.#rateLimited(epoch === this.#epoch);
      } else {
        this.#refusals = 0;
      }
      throw error;
    } finally {
      this.#running--;
    }
  }

  #succeeded(): void {
    const limit = this.#limit.concurrency;
    if (limit === this.#max || ++this.#successes < Math.max(limit, MIN_SUCCESSES_PER_STEP)) return;
    this.#set(limit + 1);
  }

  /** `fresh`: the request was sent after the last decrease. See the class for the rules. */
  #rateLimited(fresh: boolean): void {
    const limit = this.#limit.concurrency;
    const run = this.#refusals >= RUN_OF_REFUSALS;
    if (!fresh) {
      // Without this, a gateway that refuses at once would free the slots of a burst of refused requests
      // for as many new ones, into the same empty bucket.
      if (run && this.#running - 1 < limit) this.#set(Math.max(1, this.#running - 1));
      return;
    }
    if (run) {
      this.#ceiling = limit;
      this.#decrease(Math.floor(limit * DECREASE));
    } else if (limit >= this.#ceiling) {
      this.#decrease(limit - 1);
    } else {
      this.#ceiling = Number.POSITIVE_INFINITY;
    }
  }

  #decrease(to: number): void {
    this.#epoch++;
    this.#set(Math.max(1, to));
  }

  #set(limit: number): void {
    this.#successes = 0;
    this.#limit.concurrency = limit;
  }
}
