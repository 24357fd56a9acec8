import type { GroupCloseReason } from '../errors/group-closed.js';
import type { TaskResult } from './types.js';

/**
 * Options of `manager.group()` and `group.group()`. Every field is optional: a group without any still
 * gathers its tasks, so that `wait()` reports on them together and `cancel()` stops them together.
 *
 * @example
 * ```ts
 * import { TaskManager, type GroupOptions } from 'taskguard';
 * declare const manager: TaskManager;
 *
 * const options: GroupOptions = {
 *   name: 'nightly-triage',
 *   timeoutMs: 30 * 60_000, // every task of the group ends within 30 minutes
 *   maxConcurrent: 4, // start() waits while 4 of its tasks run
 *   budget: { taskMinutes: 60 }, // and all of them together may run for 60 task-minutes
 *   failFast: true, // the first failure cancels the rest
 * };
 * const group = manager.group(options);
 * console.log(group.deadline); // epoch milliseconds, 30 minutes from now
 * ```
 */
export interface GroupOptions {
  /** The group's deadline relative to now, in milliseconds: every task of the group ends by then. */
  readonly timeoutMs?: number | undefined;
  /** Absolute deadline (a `Date` or milliseconds since the epoch); the earlier of the two wins. */
  readonly deadline?: Date | number | undefined;
  /**
   * Cancel every other task of the group (and drop its queued starts) as soon as one ends `failed`,
   * `error` or `lost`.
   * @default false
   */
  readonly failFast?: boolean | undefined;
  /**
   * How many tasks started through the group (and its child groups) may run at once; `start()` waits
   * for a slot. Tasks added with `track()` were started elsewhere: they neither wait nor take a slot.
   * @default unlimited
   */
  readonly maxConcurrent?: number | undefined;
  /** A cap on the running time of the group's tasks, summed. */
  readonly budget?: GroupBudget | undefined;
  /** Aborting it cancels the group: its tasks are cancelled (`cancelled`), its queued starts dropped. */
  readonly signal?: AbortSignal | undefined;
  /** A name for messages and errors (`GroupClosedError.group`). */
  readonly name?: string | undefined;
}

/** The budget of a group (see {@link GroupOptions.budget}). */
export interface GroupBudget {
  /**
   * The cap, in task-minutes: the sum over the group's tasks of the time each has run, from the moment
   * it joined the group to the moment it settled (or now). Three tasks running for ten minutes use 30.
   * When the sum reaches the cap, every task of the group is cancelled and its queued starts dropped.
   */
  readonly taskMinutes: number;
}

/**
 * How a group's work ended (see {@link GroupResult.outcome}): `completed` (every task completed),
 * `failed` (not every task completed, or `failFast` stopped the group) or the reason the group was
 * closed early.
 */
export type GroupOutcome = 'completed' | GroupCloseReason;

/** What `wait()` counts: its tasks by outcome, and the starts that never created a task. */
export interface GroupCounts {
  /** Tasks that ended `completed`. */
  readonly completed: number;
  /** Tasks that ended `failed`. */
  readonly failed: number;
  /** Tasks that ended `cancelled`: by the group (cancel, signal, failFast, budget) or by anyone else. */
  readonly cancelled: number;
  /** Tasks that ended `timed_out`: at their own deadline or the group's. */
  readonly timed_out: number;
  /** Tasks that ended `interrupted`. */
  readonly interrupted: number;
  /** Tasks that ended `lost`. */
  readonly lost: number;
  /** Tasks that ended `error`. */
  readonly error: number;
  /** Starts refused or dropped from the queue because the group had closed: no task was created. */
  readonly dropped: number;
}

/** What `wait()` resolves with, once every task of the group has settled. */
export interface GroupResult {
  /**
   * The reason the group closed, if it did (`timed_out`, `cancelled`, `failed` under `failFast`,
   * `over_budget`); otherwise `completed` when every task completed and `failed` when one did not.
   */
  readonly outcome: GroupOutcome;
  /** One result per task, child groups' included, in the order the tasks joined the group. */
  readonly results: readonly TaskResult[];
  /** Totals by outcome, and the dropped starts. */
  readonly counts: GroupCounts;
  /** The running time of the group's tasks, summed, in minutes (see {@link GroupBudget.taskMinutes}). */
  readonly taskMinutes: number;
}
