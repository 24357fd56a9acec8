import type { TaskRef } from '../refs.js';
import type { BulkCancelResult, TaskHandle } from './types.js';

/** Options of {@link TaskManager.track}. */
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
}

/** A task created and tracked by {@link TaskManager.start}, with the API's create response. */
export type StartedTask<Created> = TaskHandle & { readonly created: Created };
