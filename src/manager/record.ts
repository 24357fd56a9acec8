import type { TaskRef } from '../refs.js';
import type { CancelReason, CancelValue, NormalizedStatus, TaskBackend, TaskHandle, TaskResult } from './types.js';

/** A pending `cancel()` caller. */
export interface CancelWaiter {
  resolve(value: CancelValue): void;
  reject(reason: unknown): void;
}

/** Cancels a ref through its manager: one shared function, not a closure per task. */
export type CancelRef = (ref: TaskRef) => Promise<CancelValue>;

/**
 * What `track()` hands out: a view of the record. A class, so its getters live on the prototype (an
 * object literal with getters costs several hundred bytes per task in V8's dictionary mode).
 */
class RecordHandle implements TaskHandle {
  readonly #record: TaskRecord;
  created?: unknown;
  reconciled = false;

  constructor(record: TaskRecord) {
    this.#record = record;
  }

  get ref(): TaskRef {
    return this.#record.ref;
  }

  get done(): Promise<TaskResult> {
    return this.#record.done;
  }

  get deadline(): number | undefined {
    return this.#record.deadline;
  }

  get status(): NormalizedStatus | undefined {
    return this.#record.status;
  }

  cancel(): Promise<CancelValue> {
    return this.#record.cancelRef(this.#record.ref);
  }
}

/**
 * The manager's state for one tracked task. At most one request per task is in flight (`op`, numbered
 * by `opSeq`); a scheduler entry is live only while its token matches (`dueToken`, `deadlineToken`).
 * Arrays and the abort controller are made on first use: most tasks never need them.
 */
export class TaskRecord {
  readonly ref: TaskRef;
  readonly key: string;
  readonly backend: TaskBackend;
  readonly cancelRef: CancelRef;
  readonly done: Promise<TaskResult>;
  readonly handle: RecordHandle;
  deadline: number | undefined;
  status: NormalizedStatus | undefined;
  /** Polls since the status last changed: drives the backoff. */
  attempt = 0;
  op: 'idle' | 'poll' | 'cancel' = 'idle';
  opSeq = 0;
  dueToken = 0;
  deadlineToken = 0;
  cancelReason: CancelReason | undefined;
  cancelValue: CancelValue | undefined;
  cancelWaiters: CancelWaiter[] | undefined;
  cancelFailures = 0;
  /**
   * The last cancel failed (`failed`) or was refused with a 400 (`refused`): the next request is a
   * status read, and the cancel is sent again only if the task is still live.
   */
  confirmFirst: false | 'failed' | 'refused' = false;
  /** The API refused the cancel of a task that has not started (a cloud task still `pending`): it waits for the start. */
  holdUntilRunning = false;
  settled = false;
  cleanups: (() => void)[] | undefined;
  #abort: AbortController | undefined;
  #resolve!: (result: TaskResult) => void;

  constructor(ref: TaskRef, key: string, backend: TaskBackend, cancelRef: CancelRef) {
    this.ref = ref;
    this.key = key;
    this.backend = backend;
    this.cancelRef = cancelRef;
    this.done = new Promise((resolve) => (this.#resolve = resolve));
    this.handle = new RecordHandle(this);
  }

  /**
   * The signal of this task's requests. One controller serves every request until it is aborted
   * (shutdown cutting a poll short, or the end of the record); then the next request gets a new one.
   */
  get signal(): AbortSignal {
    if (!this.#abort || this.#abort.signal.aborted) this.#abort = new AbortController();
    return this.#abort.signal;
  }

  /** Aborts the request in flight, if any. */
  abortRequest(): void {
    if (this.op !== 'idle') this.#abort?.abort();
  }

  /** Ends the record: aborts its request, runs its cleanups, resolves `done`. */
  finish(result: TaskResult): void {
    this.settled = true;
    this.abortRequest();
    if (this.cleanups) for (const cleanup of this.cleanups) cleanup();
    this.cleanups = undefined;
    this.#resolve(result);
  }

  /** Adds a pending `cancel()` caller. */
  waitForCancel(): Promise<CancelValue> {
    return new Promise((resolve, reject) => (this.cancelWaiters ??= []).push({ resolve, reject }));
  }

  /** Hands every pending `cancel()` caller the same answer. */
  answerCancelWaiters(answer: { value: CancelValue } | { error: unknown }): void {
    const waiters = this.cancelWaiters;
    this.cancelWaiters = undefined;
    if (waiters) for (const waiter of waiters) 'value' in answer ? waiter.resolve(answer.value) : waiter.reject(answer.error);
  }
}
