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

/** A cancel that failed: `failed` (a network error, a 5xx…) or `refused` by the API with a 400. */
export type CancelFailure = 'failed' | 'refused';

/**
 * The manager's state for one tracked task, changed only through its transitions, which keep its
 * invariants: at most one request per task in flight (each numbered, so that a late answer of an
 * aborted one is recognised), and a scheduler entry live only while its token is the record's latest.
 * Arrays and the abort controller are made on first use: most tasks never need them.
 */
export class TaskRecord {
  readonly ref: TaskRef;
  readonly key: string;
  readonly backend: TaskBackend;
  readonly cancelRef: CancelRef;
  readonly done: Promise<TaskResult>;
  readonly handle: RecordHandle;
  #deadline: number | undefined;
  #status: NormalizedStatus | undefined;
  /** Polls since the status last changed: drives the backoff. */
  #attempt = 0;
  #op: 'idle' | 'poll' | 'cancel' = 'idle';
  #opSeq = 0;
  #dueToken = 0;
  #deadlineToken = 0;
  #cancelReason: CancelReason | undefined;
  #cancelValue: CancelValue | undefined;
  #cancelWaiters: CancelWaiter[] | undefined;
  #cancelFailures = 0;
  /** After a failed or refused cancel the next request is a status read; the cancel goes again only if the task is live. */
  #confirmFirst: false | CancelFailure = false;
  /** The API refused the cancel of a task that has not started (a cloud task still `pending`): it waits for the start. */
  #holdUntilRunning = false;
  #settled = false;
  #cleanups: (() => void)[] | undefined;
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

  get deadline(): number | undefined {
    return this.#deadline;
  }

  get status(): NormalizedStatus | undefined {
    return this.#status;
  }

  get settled(): boolean {
    return this.#settled;
  }

  /** Why a cancel was first asked for, if one was. */
  get cancelReason(): CancelReason | undefined {
    return this.#cancelReason;
  }

  /** The API's answer to the accepted cancel, if one was accepted. */
  get cancelValue(): CancelValue | undefined {
    return this.#cancelValue;
  }

  /** No request of this task is in flight. */
  get idle(): boolean {
    return this.#op === 'idle';
  }

  /** A poll of this task is in flight. */
  get polling(): boolean {
    return this.#op === 'poll';
  }

  /** A cancel was asked for and the API has not accepted one yet. */
  get cancelWanted(): boolean {
    return this.#cancelReason !== undefined && this.#cancelValue === undefined;
  }

  /** The cancel can go out now: wanted, not waiting for a status read, not held until the task starts. */
  get cancelDue(): boolean {
    return this.cancelWanted && !this.#confirmFirst && !this.#holdUntilRunning;
  }

  /** A wanted cancel waits for a status read (the last one failed) before it goes again. */
  get confirming(): boolean {
    return this.#confirmFirst !== false;
  }

  /** A wanted cancel waits for the task to start: a 429's pause may hold its reads like any poll's. */
  get held(): boolean {
    return this.#holdUntilRunning;
  }

  /** Whether a scheduler entry with this token is still the record's latest. */
  isLive(kind: 'due' | 'deadline', token: number): boolean {
    return !this.#settled && token === (kind === 'due' ? this.#dueToken : this.#deadlineToken);
  }

  /** A token for the task's next request in the scheduler; earlier entries are dead from now on. */
  nextDue(): number {
    return ++this.#dueToken;
  }

  /** Sets the deadline; returns the token of its scheduler entry (earlier deadline entries are dead). */
  setDeadline(deadline: number): number {
    this.#deadline = deadline;
    return ++this.#deadlineToken;
  }

  /** The next backoff step: the polls since the status last changed, counted up. */
  nextAttempt(): number {
    return this.#attempt++;
  }

  /** Starts the task's one request in flight: returns its number and its signal. */
  startRequest(op: 'poll' | 'cancel'): { readonly seq: number; readonly signal: AbortSignal } {
    this.#op = op;
    this.#dueToken++;
    return { seq: ++this.#opSeq, signal: this.signal };
  }

  /** Ends request `seq` (unless a later one replaced it); false when the record settled meanwhile. */
  endRequest(seq: number): boolean {
    if (this.#opSeq === seq) this.#op = 'idle';
    return !this.#settled;
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
    if (this.#op !== 'idle') this.#abort?.abort();
  }

  /** Keeps the latest status; returns the one before when the word changed (which resets the backoff), else `false`. */
  noteStatus(status: NormalizedStatus): { readonly previous: NormalizedStatus | undefined } | false {
    const previous = this.#status;
    this.#status = status;
    if (previous?.raw === status.raw) return false;
    this.#attempt = 0;
    return { previous };
  }

  /**
   * Asks for a cancel (the first reason stays); resolves with the API's acceptance, rejects when a
   * round fails. `first` says whether this is the first ask.
   */
  askCancel(reason: CancelReason): { readonly first: boolean; readonly answer: Promise<CancelValue> } {
    const first = this.#cancelReason === undefined;
    this.#cancelReason ??= reason;
    const answer = new Promise<CancelValue>((resolve, reject) => (this.#cancelWaiters ??= []).push({ resolve, reject }));
    return { first, answer };
  }

  /** The API accepted the cancel: every caller gets its answer, and the backoff starts over. */
  cancelAccepted(value: CancelValue): void {
    this.#cancelValue = value;
    this.#answerCancelWaiters({ value });
    this.#attempt = 0;
  }

  /**
   * A cancel round failed: the next request is a status read. A failure (not a refusal, which the
   * read settles) is counted and rejects the callers waiting; returns the failures so far.
   */
  cancelFailed(failure: CancelFailure, error: unknown): number {
    this.#confirmFirst = failure;
    if (failure === 'failed') {
      this.#cancelFailures++;
      this.#answerCancelWaiters({ error });
    }
    return this.#cancelFailures;
  }

  /**
   * A status read of a live task after a failed cancel. A cancel refused because the task has not
   * started (a cloud task still `pending`) stays armed until a read shows it started. Returns the
   * backoff step before the cancel goes again, or `undefined` when nothing waits for a confirmation.
   */
  confirmLive(status: NormalizedStatus): number | undefined {
    const confirming = this.#confirmFirst;
    this.#confirmFirst = false;
    this.#holdUntilRunning = status.state === 'pending' && (confirming === 'refused' || this.#holdUntilRunning);
    if (!confirming || this.#holdUntilRunning) return undefined;
    if (confirming === 'refused') this.#cancelFailures++;
    return this.#cancelFailures - 1;
  }

  /** Runs `cleanup` when the record ends. */
  onFinish(cleanup: () => void): void {
    (this.#cleanups ??= []).push(cleanup);
  }

  /**
   * Ends the record: answers pending `cancel()` callers (the final status, or the error), aborts its
   * request, runs its cleanups, resolves `done`.
   */
  finish(result: TaskResult, cancelAnswer: { value: CancelValue } | { error: unknown }): void {
    this.#settled = true;
    this.#answerCancelWaiters(cancelAnswer);
    this.abortRequest();
    if (this.#cleanups) for (const cleanup of this.#cleanups) cleanup();
    this.#cleanups = undefined;
    this.#resolve(result);
  }

  #answerCancelWaiters(answer: { value: CancelValue } | { error: unknown }): void {
    const waiters = this.#cancelWaiters;
    this.#cancelWaiters = undefined;
    if (waiters) for (const waiter of waiters) 'value' in answer ? waiter.resolve(answer.value) : waiter.reject(answer.error);
  }
}
