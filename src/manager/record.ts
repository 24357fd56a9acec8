import type { TaskRef } from '../refs.js';
import type { CancelReason, CancelValue, NormalizedStatus, TaskBackend, TaskHandle, TaskResult } from './types.js';

/** A pending `cancel()` caller. */
export interface CancelWaiter {
  resolve(value: CancelValue): void;
  reject(reason: unknown): void;
}

/**
 * The manager's state for one tracked task. At most one request per task is in flight (`op`); a
 * scheduler entry is live only while its token matches (`dueToken`, `deadlineToken`).
 */
export class TaskRecord {
  readonly ref: TaskRef;
  readonly key: string;
  readonly backend: TaskBackend;
  readonly done: Promise<TaskResult>;
  readonly handle: TaskHandle & { created?: unknown };
  deadline: number | undefined;
  status: NormalizedStatus | undefined;
  /** Polls since the status last changed: drives the backoff. */
  attempt = 0;
  op: 'idle' | 'poll' | 'cancel' = 'idle';
  opAbort: AbortController | undefined;
  dueToken = 0;
  deadlineToken = 0;
  cancelReason: CancelReason | undefined;
  cancelValue: CancelValue | undefined;
  cancelWaiters: CancelWaiter[] = [];
  cancelFailures = 0;
  settled = false;
  cleanups: (() => void)[] = [];
  readonly #resolve: (result: TaskResult) => void;

  constructor(ref: TaskRef, key: string, backend: TaskBackend, deadline: number | undefined, cancel: () => Promise<CancelValue>) {
    this.ref = ref;
    this.key = key;
    this.backend = backend;
    this.deadline = deadline;
    let resolve!: (result: TaskResult) => void;
    this.done = new Promise((r) => (resolve = r));
    this.#resolve = resolve;
    const record = this;
    this.handle = {
      ref,
      done: this.done,
      get deadline() {
        return record.deadline;
      },
      get status() {
        return record.status;
      },
      cancel,
    };
  }

  /** Ends the record: aborts its request, runs its cleanups, resolves `done`. */
  finish(result: TaskResult): void {
    this.settled = true;
    this.opAbort?.abort();
    for (const cleanup of this.cleanups) cleanup();
    this.cleanups = [];
    this.#resolve(result);
  }

  /** Hands every pending `cancel()` caller the same answer. */
  answerCancelWaiters(answer: { value: CancelValue } | { error: unknown }): void {
    const waiters = this.cancelWaiters;
    this.cancelWaiters = [];
    for (const waiter of waiters) {
      if ('value' in answer) waiter.resolve(answer.value);
      else waiter.reject(answer.error);
    }
  }
}
