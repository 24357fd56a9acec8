import type { TaskRef } from '../refs.js';
import type { CancelReason, NormalizedStatus, ShutdownReport, TaskResult } from './types.js';

/**
 * The events of a `TaskManager`, with their payloads. A listener that throws is reported as an `error`
 * event and does not break the manager.
 *
 * @example
 * ```ts
 * import type { TaskManager } from 'taskguard';
 * declare const manager: TaskManager;
 *
 * manager.on('timeout', ({ ref }) => console.warn(`${ref.kind}:${ref.id} ran past its deadline, cancelling`));
 * manager.on('settled', ({ id, outcome, status }) => console.log(id, outcome, status));
 * manager.on('error', ({ error, ref }) => console.error(ref?.id ?? 'manager', error));
 * ```
 */
export interface TaskManagerEvents {
  /** A task is now tracked: its `ref`, and its `deadline` (epoch milliseconds) or `undefined`. */
  tracked: [event: { readonly ref: TaskRef; readonly deadline: number | undefined }];
  /**
   * A poll saw a status different from the last one: the task's `ref`, the new `status` and the
   * `previous` one (`undefined` at the first poll).
   */
  status: [event: { readonly ref: TaskRef; readonly status: NormalizedStatus; readonly previous: NormalizedStatus | undefined }];
  /** Tracking of a task ended; the same result `done` resolves with. */
  settled: [result: TaskResult];
  /** A task's deadline passed; its cancel follows. The task's `ref` and the `deadline` (epoch milliseconds). */
  timeout: [event: { readonly ref: TaskRef; readonly deadline: number }];
  /** The API accepted a cancel/stop of a task: its `ref`, why (`reason`) and the `status` it answered. */
  cancelled: [event: { readonly ref: TaskRef; readonly reason: CancelReason; readonly status: NormalizedStatus }];
  /**
   * A cancel/stop failed after its retries; the task stays tracked and the cancel is tried again. The
   * task's `ref`, why it was cancelled (`reason`), the `error`, and how many cancels have failed (`attempts`).
   */
  cancelFailed: [event: { readonly ref: TaskRef; readonly reason: CancelReason; readonly error: unknown; readonly attempts: number }];
  /**
   * Something went wrong that is not the end of a task: a failed poll (retried), a failed list sweep
   * (each task is polled on its own for a while), a listener that threw, a failed store write. The
   * `error`, and the task's `ref` when it concerns one.
   */
  error: [event: { readonly error: unknown; readonly ref?: TaskRef }];
  /** `shutdown()` finished. */
  shutdown: [report: ShutdownReport];
  /**
   * A create whose answer was lost was looked up in the kind's list (by `start()`, or by `recover()` for
   * a dead worker's intent): `adopted` (one task found, now tracked), `notCreated` (none: `start()` sends
   * the create again) or `ambiguous` (several, all tracked). `refs` are the tasks found.
   */
  reconciled: [event: ReconciledEvent];
}

/** The payload of the `reconciled` event, and an entry of `RecoveryReport.reconciled`. */
export interface ReconciledEvent {
  /** The kind of task the create was for. */
  readonly kind: string;
  /** What the list showed. */
  readonly outcome: 'adopted' | 'notCreated' | 'ambiguous';
  /** The tasks found (none for `notCreated`). */
  readonly refs: readonly TaskRef[];
}
