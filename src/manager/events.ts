import type { TaskRef } from '../refs.js';
import type { CancelReason, NormalizedStatus, ShutdownReport, TaskResult } from './types.js';

/** The events of a `TaskManager`, with their payloads. */
export interface TaskManagerEvents {
  /** A task is now tracked. */
  tracked: [event: { readonly ref: TaskRef; readonly deadline: number | undefined }];
  /** A poll saw a status different from the last one. */
  status: [event: { readonly ref: TaskRef; readonly status: NormalizedStatus; readonly previous: NormalizedStatus | undefined }];
  /** Tracking of a task ended; the same result `done` resolves with. */
  settled: [result: TaskResult];
  /** A task's deadline passed; its cancel follows. */
  timeout: [event: { readonly ref: TaskRef; readonly deadline: number }];
  /** The API accepted a cancel/stop of a task. */
  cancelled: [event: { readonly ref: TaskRef; readonly reason: CancelReason; readonly status: NormalizedStatus }];
  /** A cancel/stop failed after its retries; the task stays tracked and the cancel is tried again. */
  cancelFailed: [event: { readonly ref: TaskRef; readonly reason: CancelReason; readonly error: unknown; readonly attempts: number }];
  /** Something went wrong that is not the end of a task: a failed poll (retried), a listener that threw. */
  error: [event: { readonly error: unknown; readonly ref?: TaskRef }];
  /** `shutdown()` finished. */
  shutdown: [report: ShutdownReport];
}
