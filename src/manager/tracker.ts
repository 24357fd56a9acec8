import { AuthenticationError, BadRequestError, NotFoundError, PermissionDeniedError, ValidationError } from '../errors/classes.js';
import { cappedRetryAfter } from '../clients/policy.js';
import { refKey, type TaskRef } from '../refs.js';
import { onAbort as onAbortOf } from '../util/abort-hub.js';
import { backoffDelay } from '../util/backoff.js';
import { cancelValueOf } from './helpers.js';
import { createTaskTelemetry, type TaskTelemetry } from '../telemetry/task-telemetry.js';
import type { TaskManagerEvents } from './events.js';
import { RequestOutcomes } from './health.js';
import { Limiter } from './limiter.js';
import type { Registry } from './registry.js';
import type { ResolvedManagerOptions } from './options.js';
import { TaskRecord } from './record.js';
import { Scheduler } from './scheduler.js';
import { Sweeps, type SweepEntry } from './sweeps.js';
import {
  TERMINAL_STATES,
  type BackendCallOptions,
  type CancelReason,
  type CancelValue,
  type NormalizedStatus,
  type TaskBackend,
  type TaskOutcome,
  type TaskResult,
} from './types.js';

type Emit = <E extends keyof TaskManagerEvents>(event: E, ...args: TaskManagerEvents[E]) => void;

interface TaskEntry {
  readonly record: TaskRecord;
  readonly token: number;
}

/** The scheduler holds a task's next request and deadline, and the steps of list sweeps. */
type Entry = TaskEntry | SweepEntry;

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
  readonly #telemetry: TaskTelemetry;
  readonly #sweeps: Sweeps;
  /** How the manager's API requests ended, for `health()`. */
  readonly requests: RequestOutcomes;
  /** One attempt in one slot of the limiter, queued like a cancel. */
  readonly #runAttempt = <T>(attempt: () => Promise<T>): Promise<T> => this.#limiter.run(attempt);

  constructor(options: ResolvedManagerOptions, emit: Emit, registry: Registry) {
    this.#options = options;
    this.#emit = emit;
    this.#registry = registry;
    this.requests = new RequestOutcomes(options.clock);
    this.#limiter = new Limiter(options.concurrency, options.adaptiveConcurrency, () => this.#scheduler.pump(), this.requests);
    this.#telemetry = createTaskTelemetry(options.clock, () => this.#limiter.concurrency);
    this.#scheduler = new Scheduler<Entry>(options.clock, {
      onDue: (entry) => ('sweep' in entry ? this.#sweeps.due(entry) : this.#dispatch(entry.record)),
      onDeadline: (entry) => {
        if ('record' in entry) this.#onDeadline(entry.record);
      },
      isLive: (entry, kind) => {
        if ('sweep' in entry) return this.#sweeps.isLive(entry);
        return entry.record.isLive(kind, entry.token);
      },
      canDispatch: () => this.#limiter.hasFreeSlot,
      liveCount: () => this.#records.size,
    });
    this.#sweeps = new Sweeps(options, {
      records: () => this.#records.values(),
      schedule: (entry, at) => this.#scheduler.schedule(entry, at),
      run: (request) => this.#limiter.run(request),
      confirm: (record) => {
        if (this.#sweepable(record)) this.#schedule(record, this.#options.clock.now());
      },
      spare: (record, status, until) => {
        if (!this.#sweepable(record)) return;
        if (record.status?.raw !== status.raw) this.#noteStatus(record, status);
        this.#schedule(record, until);
      },
      resume: (record) => {
        if (this.#sweepable(record)) this.#next(record);
      },
      failed: (error, backend) => {
        this.#emit('error', { error });
        this.#pauseFor(error, backend);
      },
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

  stats(): { readonly tracked: number; readonly timersArmed: number; readonly requests: number; readonly concurrency: number } {
    return { tracked: this.#records.size, timersArmed: this.#scheduler.armed ? 1 : 0, requests: this.#limiter.load, concurrency: this.#limiter.concurrency };
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
      this.#telemetry.tracked(record);
      this.#emit('tracked', { ref, deadline });
      this.#schedule(record, this.#options.clock.now());
      this.#sweeps.tracked(record);
    }
    if (signal) this.#tie(record, signal);
    return record;
  }

  /**
   * Runs a backend call of the manager (a create, an untracked cancel) under the same cap, queued like
   * a cancel: attempt by attempt for a backend that limits attempts, else the whole call.
   */
  limited<T>(backend: TaskBackend, call: (options: BackendCallOptions) => Promise<T>, signal: AbortSignal): Promise<T> {
    if (backend.limitsAttempts) return call({ signal, runAttempt: this.#runAttempt });
    return this.#limiter.run(() => call({ signal }));
  }

  /** Cancels a tracked task; resolves when the API accepted the cancel (or the task had ended). */
  requestCancel(record: TaskRecord, reason: CancelReason): Promise<CancelValue> {
    if (record.cancelValue) return Promise.resolve(record.cancelValue);
    const { first, answer } = record.askCancel(reason);
    // The task's own poll in flight must not hold back a deadline, signal or shutdown cancel: a hung
    // poll would hold it for a whole request timeout. Only a user's cancel, which promises no time,
    // waits for the poll's answer (#next sends it then).
    if (record.idle) this.#next(record);
    else if (first && record.polling && reason !== 'user') record.abortRequest();
    return answer;
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
    this.#sweeps.clear();
    this.#telemetry.close();
  }

  #tie(record: TaskRecord, signal: AbortSignal): void {
    const onAbort = (): void => void this.requestCancel(record, 'signal').catch(() => {});
    if (signal.aborted) return onAbort();
    record.onFinish(onAbortOf(signal, onAbort));
  }

  #setDeadline(record: TaskRecord, deadline: number, stored: boolean): void {
    const token = record.setDeadline(deadline);
    if (stored) this.#registry.update(record.ref, record.key, { deadline });
    this.#scheduler.deadline({ record, token }, deadline);
  }

  /** Steps of a cancel (its status reads and retries) are urgent: a 429's poll pause does not hold them. */
  #schedule(record: TaskRecord, at: number): void {
    this.#scheduler.schedule({ record, token: record.nextDue() }, at, record.cancelWanted && !record.held);
  }

  #dispatch(record: TaskRecord): void {
    if (record.cancelDue) this.#cancel(record);
    else this.#poll(record);
  }

  #onDeadline(record: TaskRecord): void {
    this.#telemetry.timeout(record);
    this.#emit('timeout', { ref: record.ref, deadline: record.deadline ?? this.#options.clock.now() });
    this.requestCancel(record, 'deadline').catch(() => {});
  }

  /** A status read: one attempt (the manager backs off itself), in a slot for its whole length. */
  #poll(record: TaskRecord): void {
    const { seq, signal } = record.startRequest('poll');
    this.#limiter
      .run(() => this.#telemetry.within(record, () => record.backend.getStatus(record.ref.id, { signal })))
      .then(
        (status) => {
          if (record.endRequest(seq)) this.#onStatus(record, status);
        },
        (error: unknown) => {
          if (record.endRequest(seq)) this.#onPollError(record, error, signal.aborted);
        },
      );
  }

  #cancel(record: TaskRecord): void {
    const { seq, signal } = record.startRequest('cancel');
    const reason = record.cancelReason ?? 'user';
    const { backend } = record;
    this.limited(backend, (options) => this.#telemetry.within(record, () => backend.cancel(record.ref.id, options)), signal).then(
      (status) => {
        if (!record.endRequest(seq)) return;
        const value = cancelValueOf(status);
        record.cancelAccepted(value);
        if (value.result === 'cancelled') {
          this.#telemetry.cancelled(record, reason);
          this.#emit('cancelled', { ref: record.ref, reason, status });
        }
        this.#onStatus(record, status);
      },
      (error: unknown) => {
        if (!record.endRequest(seq)) return;
        if (error instanceof NotFoundError) return this.#settle(record, 'lost', error);
        if (isFatal(error)) return this.#settle(record, 'error', error as Error);
        // Never cancel again blind: the task may have ended (a 400 says so as often as not), or the
        // cancel may have been applied and its answer lost. The status read settles it or re-arms it.
        const refused = error instanceof BadRequestError;
        const attempts = record.cancelFailed(refused ? 'refused' : 'failed', error);
        if (!refused) this.#emit('cancelFailed', { ref: record.ref, reason, error, attempts });
        this.#schedule(record, this.#options.clock.now());
      },
    );
  }

  /** A request in flight answers for itself, and a cancel under way keeps its own course: sweeps leave both alone. */
  #sweepable(record: TaskRecord): boolean {
    return !record.settled && record.idle && record.cancelReason === undefined;
  }

  /** Keeps the latest status; a new word is news (an event, the store) and resets the backoff. */
  #noteStatus(record: TaskRecord, status: NormalizedStatus): void {
    const change = record.noteStatus(status);
    if (!change) return;
    const { previous } = change;
    this.#registry.update(record.ref, record.key, { status: status.raw });
    this.#telemetry.status(record, status);
    this.#emit('status', { ref: record.ref, status, previous });
  }

  #onStatus(record: TaskRecord, status: NormalizedStatus): void {
    this.#noteStatus(record, status);
    if (TERMINAL_STATES.has(status.state)) return this.#settle(record, outcomeOf(record, status));
    const step = record.confirmLive(status);
    if (step !== undefined) return this.#schedule(record, this.#options.clock.now() + this.#backoff(step));
    this.#next(record);
  }

  #onPollError(record: TaskRecord, error: unknown, abortedForCancel: boolean): void {
    if (abortedForCancel) return this.#next(record);
    if (error instanceof NotFoundError) return this.#settle(record, 'lost', error);
    if (isFatal(error)) return this.#settle(record, 'error', error as Error);
    this.#emit('error', { error, ref: record.ref });
    const hint = this.#pauseFor(error, record.backend);
    this.#schedule(record, this.#options.clock.now() + this.#backoff(record.nextAttempt(), hint));
  }

  /**
   * One 429 pauses every poll of the manager, for at most the smaller of the two caps: a
   * `Retry-After: 86400` must not stop polling for a day. Returns the pause, if any.
   */
  #pauseFor(error: unknown, backend: TaskBackend): number | undefined {
    const cap = Math.min(this.#options.maxRetryAfterMs, backend.maxRetryAfterMs ?? Number.POSITIVE_INFINITY);
    const hint = cappedRetryAfter(error, cap);
    if (hint !== undefined) this.#scheduler.pauseUntil(this.#options.clock.now() + hint);
    return hint;
  }

  /**
   * What a task does next when nothing is in flight: a wanted cancel goes first (after a status read if
   * the last one failed, and not before a task refused as not started has started), else the next poll.
   */
  #next(record: TaskRecord): void {
    if (record.cancelWanted && !record.held) {
      if (record.confirming) return this.#schedule(record, this.#options.clock.now());
      return this.#cancel(record);
    }
    this.#schedule(record, this.#options.clock.now() + this.#backoff(record.nextAttempt()));
  }

  #backoff(step: number, retryAfterMs?: number): number {
    return backoffDelay(step, this.#options.poll, retryAfterMs, this.#options.random);
  }

  #settle(record: TaskRecord, outcome: TaskOutcome, error?: Error, forget = true): void {
    if (record.settled) return;
    this.#records.delete(record.key);
    if (forget) this.#registry.remove(record.ref, record.key);
    const status = record.status?.raw ?? null;
    const result: TaskResult = error === undefined ? { ...record.ref, outcome, status } : { ...record.ref, outcome, status, error };
    this.#telemetry.settled(record, result);
    record.finish(result, record.status && TERMINAL_STATES.has(record.status.state) ? { value: cancelValueOf(record.status) } : { error });
    this.#sweeps.untracked(record);
    if (this.#records.size === 0) {
      this.#scheduler.clear();
      this.#sweeps.clear();
    }
    this.#emit('settled', result);
  }
}

function outcomeOf(record: TaskRecord, status: NormalizedStatus): TaskOutcome {
  if (record.cancelReason === 'deadline') return 'timed_out';
  return status.state === 'pending' || status.state === 'running' ? 'error' : status.state;
}
