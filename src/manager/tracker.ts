import { ApiError, AuthenticationError, NotFoundError, PermissionDeniedError, ValidationError } from '../errors/classes.js';
import { refKey, type TaskRef } from '../refs.js';
import { backoffDelay } from '../util/backoff.js';
import type { TaskManagerEvents } from './events.js';
import { Limiter } from './limiter.js';
import type { Registry } from './registry.js';
import type { ResolvedManagerOptions } from './options.js';
import { TaskRecord } from './record.js';
import { Scheduler } from './scheduler.js';
import {
  TERMINAL_STATES,
  type CancelReason,
  type CancelValue,
  type NormalizedStatus,
  type TaskBackend,
  type TaskOutcome,
  type TaskResult,
} from './types.js';

type Emit = <E extends keyof TaskManagerEvents>(event: E, ...args: TaskManagerEvents[E]) => void;

interface Entry {
  readonly record: TaskRecord;
  readonly token: number;
}

/** Errors after which asking again cannot help: tracking ends. */
function isFatal(error: unknown): boolean {
  return error instanceof AuthenticationError || error instanceof PermissionDeniedError || error instanceof ValidationError;
}

/**
 * The life of tracked tasks: one scheduler, one limiter, one request per task at a time. A task is
 * either waiting in the scheduler or has exactly one request (poll or cancel) in flight.
 */
export class Tracker {
  readonly #options: ResolvedManagerOptions;
  readonly #emit: Emit;
  readonly #records = new Map<string, TaskRecord>();
  readonly #scheduler: Scheduler<Entry>;
  readonly #limiter: Limiter;
  readonly #registry: Registry;

  constructor(options: ResolvedManagerOptions, emit: Emit, registry: Registry) {
    this.#options = options;
    this.#emit = emit;
    this.#registry = registry;
    this.#limiter = new Limiter(options.concurrency, () => this.#scheduler.pump());
    this.#scheduler = new Scheduler<Entry>(options.clock, {
      onDue: ({ record }) => this.#dispatch(record),
      onDeadline: ({ record }) => this.#onDeadline(record),
      isLive: ({ record, token }, kind) => !record.settled && token === (kind === 'due' ? record.dueToken : record.deadlineToken),
      canDispatch: () => this.#limiter.hasFreeSlot,
      liveCount: () => this.#records.size,
    });
  }

  get(key: string): TaskRecord | undefined {
    return this.#records.get(key);
  }

  records(): TaskRecord[] {
    return [...this.#records.values()];
  }

  activeRefs(): TaskRef[] {
    return Array.from(this.#records.values(), (record) => record.ref);
  }

  stats(): { readonly tracked: number; readonly timersArmed: number; readonly requests: number } {
    return { tracked: this.#records.size, timersArmed: this.#scheduler.armed ? 1 : 0, requests: this.#limiter.load };
  }

  track(ref: TaskRef, backend: TaskBackend, deadline: number | undefined, signal: AbortSignal | undefined, cancel: (ref: TaskRef) => Promise<CancelValue>): TaskRecord {
    const key = refKey(ref);
    let record = this.#records.get(key);
    if (record) {
      if (deadline !== undefined && (record.deadline === undefined || deadline < record.deadline)) this.#setDeadline(record, deadline, true);
    } else {
      record = new TaskRecord(ref, key, backend, cancel);
      this.#records.set(key, record);
      this.#registry.add(ref, key, deadline);
      if (deadline !== undefined) this.#setDeadline(record, deadline, false);
      this.#emit('tracked', { ref, deadline });
      this.#schedule(record, this.#options.clock.now());
    }
    if (signal) this.#tie(record, signal);
    return record;
  }

  /** Runs any other API request of the manager (a create) under the same cap, queued like a cancel. */
  limited<T>(request: () => Promise<T>): Promise<T> {
    return this.#limiter.run(request);
  }

  /** Cancels a tracked task; resolves when the API accepted the cancel (or the task had ended). */
  requestCancel(record: TaskRecord, reason: CancelReason): Promise<CancelValue> {
    if (record.cancelValue) return Promise.resolve(record.cancelValue);
    record.cancelReason ??= reason;
    const answer = record.waitForCancel();
    // A poll in flight is normally not aborted: the server would go on counting it against its
    // concurrency while the cancel arrives, and the cancel follows as soon as the poll's answer is in
    // (#next). Shutdown cannot wait: a hung poll would hold the cancel past the grace period.
    if (record.op === 'idle') this.#cancel(record);
    else if (record.op === 'poll' && reason === 'shutdown') record.abortRequest();
    return answer;
  }

  /** What a cancel of a task that has already settled amounts to: its final status, or its error. */
  async settledCancelValue(record: TaskRecord): Promise<CancelValue> {
    if (record.status && TERMINAL_STATES.has(record.status.state)) return cancelValueOf(record.status);
    const result = await record.done;
    throw result.error ?? new Error(`tracking of ${record.key} ended as ${result.outcome}`);
  }

  /** Cancels a task the manager does not track, through the same limiter. */
  async cancelUntracked(ref: TaskRef, backend: TaskBackend, signal: AbortSignal): Promise<CancelValue> {
    const status = await this.#limiter.run(() => backend.cancel(ref.id, { signal }));
    const value = cancelValueOf(status);
    if (value.result === 'cancelled') this.#emit('cancelled', { ref, reason: 'user', status });
    return value;
  }

  /**
   * Ends tracking of a task without waiting for the API (shutdown's grace ran out, or close()). Its
   * record stays in the store: the task may still be running, and `recover()` elsewhere can find it.
   */
  abandon(record: TaskRecord, error: Error): void {
    this.#settle(record, 'error', error, false);
  }

  clear(): void {
    this.#scheduler.clear();
  }

  #tie(record: TaskRecord, signal: AbortSignal): void {
    const onAbort = (): void => void this.requestCancel(record, 'signal').catch(() => {});
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    (record.cleanups ??= []).push(() => signal.removeEventListener('abort', onAbort));
  }

  #setDeadline(record: TaskRecord, deadline: number, stored: boolean): void {
    record.deadline = deadline;
    if (stored) this.#registry.update(record.ref, record.key, { deadline });
    this.#scheduler.deadline({ record, token: ++record.deadlineToken }, deadline);
  }

  #schedule(record: TaskRecord, at: number): void {
    this.#scheduler.schedule({ record, token: ++record.dueToken }, at);
  }

  #dispatch(record: TaskRecord): void {
    if (record.cancelReason !== undefined && record.cancelValue === undefined) this.#cancel(record);
    else this.#poll(record);
  }

  #onDeadline(record: TaskRecord): void {
    this.#emit('timeout', { ref: record.ref, deadline: record.deadline ?? this.#options.clock.now() });
    this.requestCancel(record, 'deadline').catch(() => {});
  }

  #poll(record: TaskRecord): void {
    const signal = this.#startOp(record, 'poll');
    const seq = record.opSeq;
    this.#limiter
      .run(() => record.backend.getStatus(record.ref.id, { signal }))
      .then(
        (status) => {
          if (this.#endOp(record, seq)) this.#onStatus(record, status);
        },
        (error: unknown) => {
          if (this.#endOp(record, seq)) this.#onPollError(record, error, signal.aborted);
        },
      );
  }

  #cancel(record: TaskRecord): void {
    const signal = this.#startOp(record, 'cancel');
    const seq = record.opSeq;
    const reason = record.cancelReason ?? 'user';
    this.#limiter
      .run(() => record.backend.cancel(record.ref.id, { signal }))
      .then(
        (status) => {
          if (!this.#endOp(record, seq)) return;
          const value = cancelValueOf(status);
          record.cancelValue = value;
          if (value.result === 'cancelled') this.#emit('cancelled', { ref: record.ref, reason, status });
          record.answerCancelWaiters({ value });
          record.attempt = 0;
          this.#onStatus(record, status);
        },
        (error: unknown) => {
          if (!this.#endOp(record, seq)) return;
          record.answerCancelWaiters({ error });
          if (error instanceof NotFoundError) return this.#settle(record, 'lost', error);
          if (isFatal(error)) return this.#settle(record, 'error', error as Error);
          record.cancelFailures++;
          this.#emit('cancelFailed', { ref: record.ref, reason, error, attempts: record.cancelFailures });
          this.#schedule(record, this.#options.clock.now() + backoffDelay(record.cancelFailures - 1, this.#options.poll, undefined, this.#options.random));
        },
      );
  }

  #startOp(record: TaskRecord, op: 'poll' | 'cancel'): AbortSignal {
    record.op = op;
    record.opSeq++;
    record.dueToken++;
    return record.signal;
  }

  /** Marks the request done; false when the record settled meanwhile and the answer no longer matters. */
  #endOp(record: TaskRecord, seq: number): boolean {
    if (record.opSeq === seq) record.op = 'idle';
    return !record.settled;
  }

  #onStatus(record: TaskRecord, status: NormalizedStatus): void {
    const previous = record.status;
    record.status = status;
    if (previous?.raw !== status.raw) {
      record.attempt = 0;
      this.#registry.update(record.ref, record.key, { status: status.raw });
      this.#emit('status', { ref: record.ref, status, previous });
    }
    if (TERMINAL_STATES.has(status.state)) return this.#settle(record, outcomeOf(record, status));
    this.#next(record);
  }

  #onPollError(record: TaskRecord, error: unknown, abortedForCancel: boolean): void {
    if (abortedForCancel) return this.#next(record);
    if (error instanceof NotFoundError) return this.#settle(record, 'lost', error);
    if (isFatal(error)) return this.#settle(record, 'error', error as Error);
    this.#emit('error', { error, ref: record.ref });
    const hint = error instanceof ApiError ? error.retryAfterMs : undefined;
    if (hint !== undefined) this.#scheduler.pauseUntil(this.#options.clock.now() + hint);
    this.#schedule(record, this.#options.clock.now() + backoffDelay(record.attempt++, this.#options.poll, hint, this.#options.random));
  }

  /** What a task does next when nothing is in flight: a pending cancel goes first, else the next poll. */
  #next(record: TaskRecord): void {
    if (record.cancelReason !== undefined && record.cancelValue === undefined) return this.#cancel(record);
    const delay = backoffDelay(record.attempt++, this.#options.poll, undefined, this.#options.random);
    this.#schedule(record, this.#options.clock.now() + delay);
  }

  #settle(record: TaskRecord, outcome: TaskOutcome, error?: Error, forget = true): void {
    if (record.settled) return;
    this.#records.delete(record.key);
    if (forget) this.#registry.remove(record.ref, record.key);
    const status = record.status?.raw ?? null;
    const result: TaskResult = error === undefined ? { ...record.ref, outcome, status } : { ...record.ref, outcome, status, error };
    if (record.cancelWaiters) {
      record.answerCancelWaiters(record.status && TERMINAL_STATES.has(record.status.state) ? { value: cancelValueOf(record.status) } : { error });
    }
    record.finish(result);
    if (this.#records.size === 0) this.#scheduler.clear();
    this.#emit('settled', result);
  }
}

function cancelValueOf(status: NormalizedStatus): CancelValue {
  const finishedOnItsOwn = TERMINAL_STATES.has(status.state) && status.state !== 'cancelled';
  return { result: finishedOnItsOwn ? 'alreadyDone' : 'cancelled', status };
}

function outcomeOf(record: TaskRecord, status: NormalizedStatus): TaskOutcome {
  if (record.cancelReason === 'deadline') return 'timed_out';
  return status.state === 'pending' || status.state === 'running' ? 'error' : status.state;
}
