import type { TaskRef } from '../refs.js';
import type { ReconciledEvent } from './events.js';
import type { BulkCancelEntry, BulkCancelResult, TaskHandle } from './types.js';

/**
 * Options of {@link TaskManager.track} (and of `start`). Without `timeoutMs` and `deadline`, the
 * manager's `defaultTimeoutMs` applies, if it has one.
 *
 * @example
 * ```ts
 * import { TaskManager, type TrackOptions } from 'taskguard';
 * declare const manager: TaskManager;
 *
 * const controller = new AbortController(); // e.g. aborted when the HTTP client goes away
 * const options: TrackOptions = { timeoutMs: 10 * 60_000, signal: controller.signal };
 * const handle = manager.track({ kind: 'cloud', id: '9qQe2F8Z_nXx9-eJA0BD6' }, options);
 * console.log((await handle.done).outcome); // 'timed_out' after 10 minutes, 'cancelled' on abort()
 * ```
 */
export interface TrackOptions {
  /** Deadline relative to now, in milliseconds; at the deadline the task is cancelled (`timed_out`). */
  readonly timeoutMs?: number | undefined;
  /** Absolute deadline (a `Date` or milliseconds since the epoch); the earlier of the two wins. */
  readonly deadline?: Date | number | undefined;
  /** Ties the remote task to the caller: when it aborts, the task is cancelled (`cancelled`). */
  readonly signal?: AbortSignal | undefined;
}

/** Options of {@link TaskManager.wait}. */
export interface WaitOptions {
  /** Cancel the task if it has not ended within this many milliseconds, and reject with `TaskTimeoutError`. */
  readonly timeoutMs?: number | undefined;
  /** Aborting cancels the task and rejects with `signal.reason`. */
  readonly signal?: AbortSignal | undefined;
}

/** Options of {@link TaskManager.cancelMany}. */
export interface CancelManyOptions {
  /**
   * Cancels in flight at once for this call; it can lower the manager's `concurrency`, never raise it.
   * @default the manager's `concurrency`
   */
  readonly concurrency?: number;
  /**
   * Called as each ref's cancel settles, with its entry (as in the result) and its index in `refs`:
   * progress for a long bulk cancel. A duplicate ref's entries are reported together, when their one
   * cancel settles. A callback that throws does not change the result; the throw surfaces as an
   * uncaught exception.
   */
  readonly onSettled?: (entry: BulkCancelEntry, index: number) => void;
}

/** Options of {@link TaskManager.recover}. */
export interface RecoverOptions {
  /** `cancel`: cancel every orphaned task; `resume`: track them on (a past deadline still cancels). */
  readonly policy: 'cancel' | 'resume';
}

/** What {@link TaskManager.recover} found and did. */
export interface RecoveryReport {
  /** The policy applied. */
  readonly policy: 'cancel' | 'resume';
  /** Orphaned tasks this worker claimed (and now tracks). */
  readonly claimed: readonly TaskRef[];
  /** Orphaned tasks another worker claimed first. */
  readonly skipped: readonly TaskRef[];
  /** The cancel of the claimed tasks (policy `cancel`). */
  readonly cancel: BulkCancelResult | undefined;
  /**
   * The creates of dead workers that were sent but never answered (their intents), each looked up in
   * its kind's list: the tasks found are among `claimed` and handled by the policy like the others.
   */
  readonly reconciled: readonly ReconciledEvent[];
}

/**
 * A task created and tracked by {@link TaskManager.start}: its {@link TaskHandle}, plus `created`, the
 * API's create response (`AgentCreateTaskResponse` or `CloudTaskResponse`).
 */
export type StartedTask<Created> = TaskHandle & {
  readonly created: Created;
  /**
   * True when the create's answer was lost and the task was found in the kind's list instead (see
   * docs/exactly-once.md); `created` is then the list's entry, shaped like a create's answer.
   */
  readonly reconciled: boolean;
};
