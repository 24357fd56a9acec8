import { BlackboxError } from './classes.js';

/**
 * Why a task group stopped accepting work: its deadline passed (`timed_out`), it or its parent was
 * cancelled or its signal aborted (`cancelled`), a task failed under `failFast` (`failed`), or its
 * budget ran out (`over_budget`).
 */
export type GroupCloseReason = 'timed_out' | 'cancelled' | 'failed' | 'over_budget';

const WHY: Readonly<Record<GroupCloseReason, string>> = {
  timed_out: 'passed its deadline',
  cancelled: 'was cancelled',
  failed: 'stopped after a task failed (failFast)',
  over_budget: 'ran out of budget',
};

/**
 * A task group no longer accepts work, so a `start()` was refused or dropped from its queue before any
 * create request was sent: nothing was created and nothing is left to cancel.
 *
 * @example
 * ```ts
 * import { GroupClosedError, type TaskGroup } from 'taskguard';
 * declare const group: TaskGroup;
 *
 * try {
 *   await group.start('agent', { prompt: 'Summarise the diff' });
 * } catch (error) {
 *   if (!(error instanceof GroupClosedError)) throw error;
 *   console.warn(`not started: ${error.reason}`); // e.g. over_budget
 * }
 * ```
 */
export class GroupClosedError extends BlackboxError {
  /** Always `'GroupClosedError'`: the class name, as stack traces and logs show it. */
  override name = 'GroupClosedError';
  /** Why the group closed. */
  readonly reason: GroupCloseReason;
  /** The group's `name`, if it has one. */
  readonly group: string | undefined;

  /** `reason` is why the group closed; `group` its name, if any. */
  constructor(reason: GroupCloseReason, group?: string) {
    super(`the task group${group === undefined ? '' : ` "${group}"`} ${WHY[reason]}: it takes no new work`);
    this.reason = reason;
    this.group = group;
  }
}
