import type { TaskHandle } from './types.js';

/**
 * How many task-minutes one task costs per minute it runs. One for every task today; the seam where a
 * multi-agent cloud task will count its agents (its create answer is `handle.created`), without a
 * change to the budget's API or its meter.
 */
export function taskCostRate(_task: TaskHandle): number {
  return 1;
}

/**
 * The running cost of a changing set of tasks, in task-milliseconds. Cost accrues at the sum of the
 * running tasks' rates; it is folded into a total whenever that sum changes, so reading it costs
 * nothing per task.
 */
export class BudgetMeter {
  #spent = 0;
  #since: number;
  #rate = 0;

  constructor(now: number) {
    this.#since = now;
  }

  /** A task joined (`rate` > 0) or settled (`-rate`). */
  change(rate: number, now: number): void {
    this.#spent = this.spentAt(now);
    this.#since = now;
    this.#rate += rate;
  }

  /** Task-milliseconds spent up to `now`. */
  spentAt(now: number): number {
    return this.#spent + this.#rate * (now - this.#since);
  }

  /**
   * The moment the cost reaches `cap` at the current rate, rounded up to a whole millisecond (so that
   * the check then finds it reached), or `Infinity` while nothing runs.
   */
  reachesAt(cap: number, now: number): number {
    if (this.#rate <= 0) return Number.POSITIVE_INFINITY;
    return now + Math.max(0, Math.ceil((cap - this.spentAt(now)) / this.#rate));
  }
}
