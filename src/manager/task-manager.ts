import { EventEmitter } from 'eventemitter3';
import pLimit from 'p-limit';
import type { AgentClient } from '../clients/agent.js';
import type { CloudClient } from '../clients/cloud.js';
import type { RequestOptions } from '../clients/core.js';
import type { AgentCreateTaskBody, AgentCreateTaskResponse, CloudCreateTaskBody, CloudTaskResponse } from '../clients/types.js';
import { pathId } from '../clients/validate.js';
import { ManagerClosedError, TaskTimeoutError, ValidationError } from '../errors/classes.js';
import { refKey, type TaskKind, type TaskRef } from '../refs.js';
import { agentBackend, cloudBackend } from './backends.js';
import { bulkCancel } from './bulk.js';
import type { TaskManagerEvents } from './events.js';
import { resolveManagerOptions, type ResolvedManagerOptions, type TaskManagerOptions } from './options.js';
import type { TaskRecord } from './record.js';
import { runShutdown } from './shutdown.js';
import { Registry } from './registry.js';
import { registerForSignals } from './signals.js';
import { Tracker } from './tracker.js';
import type { BulkCancelResult, CancelValue, ShutdownReport, TaskBackend, TaskHandle, TaskResult } from './types.js';

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

/**
 * Tracks remote tasks until they end: polls their status with backoff, cancels them at their deadline,
 * cancels in bulk with allSettled semantics, and shuts down gracefully on SIGINT/SIGTERM.
 *
 * @example
 * ```ts
 * const manager = new TaskManager({ agent: new AgentClient(), shutdown: true });
 * const task = await manager.start('agent', { prompt: 'Write the release notes' }, { timeoutMs: 600_000 });
 * const result = await task.done; // { outcome: 'completed' | 'timed_out' | …, status, … }
 * ```
 */
export class TaskManager extends EventEmitter<TaskManagerEvents> {
  readonly #options: ResolvedManagerOptions;
  readonly #tracker: Tracker;
  readonly #lifetime = new AbortController();
  readonly #creating = new Set<Promise<unknown>>();
  #state: 'open' | 'shuttingDown' | 'closed' = 'open';
  #shutdown: Promise<ShutdownReport> | undefined;
  #unregisterSignals: (() => void) | undefined;
  #unsubscribe: Promise<(() => Promise<void>) | undefined> | undefined;
  readonly #registry: Registry;
  #closing: Promise<void> | undefined;

  constructor(options: TaskManagerOptions = {}) {
    super();
    this.#options = resolveManagerOptions(options, builtInBackends);
    const { store, workerId, leaseMs, clock } = this.#options;
    this.#registry = new Registry(store, workerId, leaseMs, clock, (error, ref) => this.#emit('error', ref ? { error, ref } : { error }));
    this.#tracker = new Tracker(this.#options, (event, ...args) => this.#emit(event, ...args), this.#registry);
    if (store.subscribe) {
      const subscribe = store.subscribe.bind(store);
      this.#unsubscribe = this.#registry.ready
        .then(() => subscribe((message) => this.#onFleetMessage(message)))
        .catch((error: unknown) => {
          this.#emit('error', { error });
          return undefined;
        });
    }
    const { shutdown } = this.#options;
    if (shutdown) {
      this.#unregisterSignals = registerForSignals({ ...shutdown, shutdown: () => this.shutdown() });
    }
  }

  /** This worker's name in the store. */
  get workerId(): string {
    return this.#options.workerId;
  }

  /** Resolves once the store is open (a `FileStore`'s lock taken, a `RedisStore` connected); rejects if it cannot be. */
  ready(): Promise<void> {
    return this.#registry.ready;
  }

  /** Starts tracking a task; tracking the same ref again returns the same handle (with the earlier deadline). */
  track(ref: TaskRef, options: TrackOptions = {}): TaskHandle {
    if (this.#state !== 'open') throw new ManagerClosedError(`cannot track ${describe(ref)}: the manager is ${this.#state === 'closed' ? 'closed' : 'shutting down'}`);
    return this.#track(ref, options).handle;
  }

  /** Creates a remote task through the backend of `kind` and tracks it. */
  start(kind: 'agent', body: AgentCreateTaskBody, options?: TrackOptions): Promise<StartedTask<AgentCreateTaskResponse>>;
  start(kind: 'cloud', body: CloudCreateTaskBody, options?: TrackOptions): Promise<StartedTask<CloudTaskResponse>>;
  start(kind: TaskKind, body: unknown, options?: TrackOptions): Promise<StartedTask<unknown>>;
  async start(kind: TaskKind, body: unknown, options: TrackOptions = {}): Promise<StartedTask<unknown>> {
    if (this.#state !== 'open') throw new ManagerClosedError(`cannot start a ${kind} task: the manager is ${this.#state === 'closed' ? 'closed' : 'shutting down'}`);
    const backend = this.#backend(kind);
    if (!backend.create) throw new ValidationError(`the backend of kind "${kind}" has no create(body, { signal })`);
    options.signal?.throwIfAborted();
    const create = backend.create.bind(backend);
    // The caller's signal does not abort the create: the server may already have made the task, and
    // an aborted create would leave it running with nobody watching. It is tracked below, where the
    // signal (if it aborted meanwhile) cancels it at once.
    const signal = this.#lifetime.signal;
    const creating = this.#tracker.limited(() => create(body, { signal }));
    this.#creating.add(creating);
    let id: string;
    let created: unknown;
    try {
      ({ id, created } = await creating);
    } finally {
      this.#creating.delete(creating);
    }
    // A task created while shutdown began is tracked all the same and cancelled at once: never orphaned.
    const record = this.#track({ kind, id }, options);
    record.handle.created = created;
    if (this.#state !== 'open') this.#tracker.requestCancel(record, 'shutdown').catch(() => {});
    options.signal?.throwIfAborted();
    return record.handle as StartedTask<unknown>;
  }

  /**
   * Tracks the task (if it is not already) and waits for it to end. On timeout it cancels the task and
   * rejects with `TaskTimeoutError`; any other outcome resolves.
   */
  async wait(ref: TaskRef, options: WaitOptions = {}): Promise<TaskResult> {
    options.signal?.throwIfAborted();
    const handle = this.track(ref, options);
    const result = await (options.signal ? raceAbort(handle.done, options.signal) : handle.done);
    if (result.outcome === 'timed_out') {
      throw new TaskTimeoutError(handle.ref, handle.deadline ?? Number.NaN, result.error === undefined ? undefined : { cause: result.error });
    }
    return result;
  }

  /** Cancels (agent) or stops (cloud) a task, tracked or not; tracking ends once the API confirms it. */
  cancel(ref: TaskRef, options: Pick<RequestOptions, 'signal'> = {}): Promise<CancelValue> {
    const cancelling = this.#cancelOne(ref);
    return options.signal ? raceAbort(cancelling, options.signal) : cancelling;
  }

  /**
   * Cancels many tasks, tracked or not, at most `concurrency` at once (never more than the manager's cap).
   * Never rejects: one allSettled-style entry per ref, in input order, and the counts.
   */
  cancelMany(refs: readonly TaskRef[], options: { readonly concurrency?: number } = {}): Promise<BulkCancelResult> {
    const cap = this.#options.concurrency;
    const { concurrency = cap } = options;
    if (!Number.isInteger(concurrency) || concurrency < 1) return Promise.reject(new RangeError(`concurrency must be an integer ≥ 1, got ${concurrency}`));
    if (!Array.isArray(refs)) return Promise.reject(new TypeError('refs must be an array of { kind, id }'));
    return this.#bulkCancel(refs, Math.min(concurrency, cap), 'user');
  }

  /**
   * Cancels every tracked task. Never rejects. With `scope: 'fleet'` (a store shared by several
   * workers), every live worker of the store is asked to cancel all of its tasks too, and the tasks of
   * workers that are gone are claimed and cancelled here; the result then covers this worker's tasks and
   * the orphans.
   */
  async cancelAll(options: { readonly scope?: 'worker' | 'fleet' } = {}): Promise<BulkCancelResult> {
    if (options.scope !== 'fleet') return this.cancelMany(this.active());
    const { store, workerId } = this.#options;
    if (store.publish) await store.publish({ type: 'cancelAll', from: workerId }).catch((error: unknown) => this.#emit('error', { error }));
    const own = this.active();
    const orphans = await this.recover({ policy: 'resume' }).catch((error: unknown) => {
      this.#emit('error', { error });
      return undefined;
    });
    const refs = [...own, ...(orphans?.claimed ?? [])];
    return this.cancelMany(refs);
  }

  /**
   * Finds tasks whose owner is gone (a crashed process: its lease expired, or the journal of a dead
   * process), claims them atomically and cancels them or tracks them on. A stored deadline holds: a
   * resumed task past its deadline is cancelled at once.
   */
  async recover(options: RecoverOptions): Promise<RecoveryReport> {
    const { policy } = options;
    if (policy !== 'cancel' && policy !== 'resume') throw new TypeError(`policy must be "cancel" or "resume", got ${String(policy)}`);
    if (this.#state !== 'open') throw new ManagerClosedError('cannot recover: the manager is not open');
    await this.#registry.ready;
    const { store, workerId } = this.#options;
    const claimed: TaskRef[] = [];
    const skipped: TaskRef[] = [];
    const orphans = await store.listExpired(workerId);
    // Claims are atomic in the store, so they can go in parallel: one round trip or disk sync each.
    const limit = pLimit(this.#options.concurrency);
    const won = await Promise.allSettled(
      orphans.map((task) => limit(() => (this.#options.backends.has(task.kind) ? store.claim({ kind: task.kind, id: task.id }, task.owner, workerId) : false))),
    );
    // A claim that failed must not take the ones that won down with it: those are ours now, and only
    // tracking them keeps them from being orphaned a second time.
    orphans.forEach((task, i) => {
      const ref: TaskRef = { kind: task.kind, id: task.id };
      const claim = won[i]!;
      if (claim.status === 'rejected') this.#emit('error', { error: claim.reason, ref });
      if (claim.status === 'rejected' || !claim.value) return void skipped.push(ref);
      claimed.push(ref);
      if (this.#state === 'open') this.#track(ref, task.deadline === null ? {} : { deadline: task.deadline });
    });
    const cancel = policy === 'cancel' ? await this.cancelMany(claimed) : undefined;
    return { policy, claimed, skipped, cancel };
  }

  /** Refs still tracked. */
  active(): TaskRef[] {
    return this.#tracker.activeRefs();
  }

  /**
   * Stops accepting work, cancels every tracked task, waits up to `graceMs` for the cancels to be
   * confirmed, then closes the manager. Calling it again returns the same report.
   */
  shutdown(options: { readonly graceMs?: number } = {}): Promise<ShutdownReport> {
    if (this.#shutdown) return this.#shutdown;
    const graceMs = options.graceMs ?? (this.#options.shutdown ? this.#options.shutdown.graceMs : 10_000);
    if (!Number.isFinite(graceMs) || graceMs < 0) return Promise.reject(new RangeError(`graceMs must be a finite number ≥ 0, got ${graceMs}`));
    this.#state = 'shuttingDown';
    this.#shutdown = runShutdown({
      clock: this.#options.clock,
      graceMs,
      creating: [...this.#creating],
      records: () => this.#tracker.records(),
      cancel: (refs) => this.#bulkCancel(refs, this.#options.concurrency, 'shutdown'),
      abandon: (record) => this.#tracker.abandon(record, new ManagerClosedError(`shutdown grace of ${graceMs} ms ran out before the cancel of ${record.key} was confirmed`)),
    }).then(async (report) => {
      this.#emit('shutdown', report);
      await this.close();
      return report;
    });
    return this.#shutdown;
  }

  /**
   * Removes the signal handlers and every timer. Tasks still tracked stop being tracked (their `done`
   * resolves with outcome `error`) but are NOT cancelled: use `shutdown()` for that. They stay in a
   * durable store, where `recover()` finds them. Resolves when the store has been written and closed.
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#state = 'closed';
    this.#unregisterSignals?.();
    this.#unregisterSignals = undefined;
    for (const record of this.#tracker.records()) {
      this.#tracker.abandon(record, new ManagerClosedError(`the manager was closed while ${record.key} was tracked; it was not cancelled`));
    }
    this.#lifetime.abort(new ManagerClosedError('the manager was closed'));
    this.#tracker.clear();
    this.#closing = this.#closeStore();
    return this.#closing;
  }

  async #closeStore(): Promise<void> {
    const unsubscribe = await this.#unsubscribe;
    await unsubscribe?.().catch((error: unknown) => this.#emit('error', { error }));
    await this.#registry.close();
  }

  #onFleetMessage(message: { readonly type: string; readonly from: string }): void {
    if (message.type !== 'cancelAll' || message.from === this.#options.workerId || this.#state !== 'open') return;
    void this.cancelAll();
  }

  /** Diagnostics: tracked tasks, timers armed (at most 1), requests in flight or queued. */
  stats(): { readonly tracked: number; readonly timersArmed: number; readonly requests: number } {
    return this.#tracker.stats();
  }

  #track(ref: TaskRef, options: TrackOptions): TaskRecord {
    const backend = this.#backend(ref?.kind);
    pathId(ref.id, `${ref.kind} id`);
    return this.#tracker.track({ kind: ref.kind, id: ref.id }, backend, deadlineOf(options, this.#options), options.signal, (r) => this.cancel(r));
  }

  /**
   * The records are looked up when the bulk call is made, not when each ref's turn comes: a task that
   * settles while it waits in the queue needs no request, its final status answers for it.
   */
  #bulkCancel(refs: readonly TaskRef[], concurrency: number, reason: 'user' | 'shutdown'): Promise<BulkCancelResult> {
    const known = new Map<TaskRef, TaskRecord>();
    for (const ref of refs) {
      const record = typeof ref?.kind === 'string' && typeof ref.id === 'string' ? this.#tracker.get(refKey(ref)) : undefined;
      if (record) known.set(ref, record);
    }
    return bulkCancel(refs, concurrency, (ref) => this.#cancelOne(ref, reason, known.get(ref)));
  }

  async #cancelOne(ref: TaskRef, reason: 'user' | 'shutdown' = 'user', known?: TaskRecord): Promise<CancelValue> {
    const backend = this.#backend(ref?.kind);
    pathId(ref.id, `${ref.kind} id`);
    const record = known ?? this.#tracker.get(refKey(ref));
    if (record?.settled) return this.#tracker.settledCancelValue(record);
    if (record) return this.#tracker.requestCancel(record, reason);
    return this.#tracker.cancelUntracked(ref, backend, this.#lifetime.signal);
  }

  #backend(kind: unknown): TaskBackend {
    const backend = typeof kind === 'string' ? this.#options.backends.get(kind) : undefined;
    if (backend) return backend;
    const hint = kind === 'agent' ? ' (pass { agent: new AgentClient() })' : kind === 'cloud' ? ' (pass { cloud: new CloudClient() })' : ' (pass it in { backends })';
    throw new ValidationError(`no backend for task kind ${JSON.stringify(kind)}${hint}`);
  }

  /**
   * Emits without letting a throwing listener break the manager. The throw goes to the `error`
   * listeners; with none (or one that throws too) it is rethrown outside the manager's own work, as an
   * uncaught exception, the way Node's EventEmitter treats an unhandled error: never swallowed.
   */
  #emit<E extends keyof TaskManagerEvents>(event: E, ...args: TaskManagerEvents[E]): void {
    try {
      (this.emit as (event: E, ...args: TaskManagerEvents[E]) => boolean)(event, ...args);
    } catch (error) {
      if (event !== 'error' && this.listenerCount('error') > 0) {
        try {
          this.emit('error', { error });
          return;
        } catch (listenerError) {
          return rethrowLater(listenerError);
        }
      }
      rethrowLater(error);
    }
  }
}

/** A microtask, not nextTick: it must land before a signal shutdown's promise chain reaches process.exit. */
function rethrowLater(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}

function builtInBackends(options: TaskManagerOptions): Map<string, TaskBackend> {
  const backends = new Map<string, TaskBackend>();
  if (options.agent) backends.set('agent', agentBackend(options.agent as AgentClient));
  if (options.cloud) backends.set('cloud', cloudBackend(options.cloud as CloudClient));
  return backends;
}

function deadlineOf(options: TrackOptions, resolved: ResolvedManagerOptions): number | undefined {
  const now = resolved.clock.now();
  const { timeoutMs, deadline } = options;
  if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && timeoutMs >= 0)) throw new RangeError(`timeoutMs must be a number ≥ 0, got ${timeoutMs}`);
  const absolute = deadline instanceof Date ? deadline.getTime() : deadline;
  if (absolute !== undefined && !Number.isFinite(absolute)) throw new RangeError(`deadline must be a Date or a finite number of ms since the epoch`);
  const relative = timeoutMs ?? (absolute === undefined ? resolved.defaultTimeoutMs : undefined);
  const candidates = [absolute, relative === undefined ? undefined : now + relative].filter((d): d is number => d !== undefined);
  return candidates.length === 0 ? undefined : Math.min(...candidates);
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function describe(ref: unknown): string {
  return typeof ref === 'object' && ref !== null ? `${String((ref as TaskRef).kind)}:${String((ref as TaskRef).id)}` : String(ref);
}
