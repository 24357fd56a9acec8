import { EventEmitter } from 'eventemitter3';
import type { RequestOptions } from '../clients/core.js';
import type { AgentLogEvent, CloudStreamEvent } from '../clients/log-types.js';
import type { AgentCreateTaskBody, AgentCreateTaskResponse, CloudCreateTaskBody, CloudTaskResponse } from '../clients/types.js';
import { ManagerClosedError, TaskTimeoutError, ValidationError } from '../errors/classes.js';
import { refKey, type TaskKind, type TaskRef } from '../refs.js';
import { builtInBackends, checkRefId, deadlineOf, describeRef, raceAbort, rethrowLater } from './helpers.js';
import type { CancelManyOptions, RecoverOptions, RecoveryReport, StartedTask, TrackOptions, WaitOptions } from './api-types.js';
import { bulkCancel } from './bulk.js';
import { TaskGroup } from './group.js';
import type { GroupOptions } from './group-types.js';
import type { ReconciledEvent, TaskManagerEvents } from './events.js';
import { resolveManagerOptions, type ResolvedManagerOptions, type TaskManagerOptions } from './options.js';
import type { TaskRecord } from './record.js';
import { runShutdown } from './shutdown.js';
import { claimOrphans } from './recovery.js';
import { Registry } from './registry.js';
import { registerForSignals } from './signals.js';
import { managerHealth, watchStore, type ManagerHealth, type StoreState } from './health.js';
import { reconcileIntent } from './intents.js';
import { createOnce, type CreateResult, type StartContext } from './start.js';
import { Tracker } from './tracker.js';
import { WarningSink } from './warnings.js';
import type { BulkCancelResult, CancelValue, ShutdownReport, TaskBackend, TaskHandle, TaskResult } from './types.js';

/**
 * Tracks remote tasks until they end: polls their status with backoff, cancels them at their deadline,
 * cancels in bulk with allSettled semantics, and shuts down gracefully on SIGINT/SIGTERM.
 *
 * @example
 * ```ts
 * import { AgentClient, TaskManager } from 'taskguard';
 *
 * const manager = new TaskManager({ agent: new AgentClient(), shutdown: true });
 * const task = await manager.start('agent', { prompt: 'Write the release notes' }, { timeoutMs: 600_000 });
 * const result = await task.done; // never rejects
 * console.log(result.outcome, result.status); // e.g. completed completed, or timed_out cancelled
 * ```
 */
export class TaskManager extends EventEmitter<TaskManagerEvents> {
  readonly #options: ResolvedManagerOptions;
  /** The clients given as `agent` and `cloud`: the log streams are theirs. */
  readonly #clients: Pick<TaskManagerOptions, 'agent' | 'cloud'>;
  readonly #tracker: Tracker;
  readonly #lifetime = new AbortController();
  readonly #creating = new Set<Promise<unknown>>();
  #state: 'open' | 'shuttingDown' | 'closed' = 'open';
  #shutdown: Promise<ShutdownReport> | undefined;
  #unregisterSignals: (() => void) | undefined;
  #unsubscribe: Promise<(() => Promise<void>) | undefined> | undefined;
  readonly #registry: Registry;
  #closing: Promise<void> | undefined;
  /** Ends a shutdown's grace at once (a second signal with `exit: false`). */
  #endGrace: (() => void) | undefined;
  readonly #warnings: WarningSink;
  readonly #storeState: () => StoreState;
  readonly #startContext: StartContext;

  /**
   * Creates a manager; nothing is sent to the APIs. Throws a `TypeError` or `RangeError` naming an
   * invalid option. With `shutdown`, installs the signal handlers at once; the store opens in the
   * background (see {@link TaskManager.ready}).
   */
  constructor(options: TaskManagerOptions = {}) {
    super();
    this.#options = resolveManagerOptions(options, builtInBackends);
    this.#clients = { ...(options.agent ? { agent: options.agent } : {}), ...(options.cloud ? { cloud: options.cloud } : {}) };
    this.#warnings = new WarningSink(this.#options.logger);
    const { store, workerId, leaseMs, clock } = this.#options;
    this.#registry = new Registry(store, workerId, leaseMs, clock, (error, ref) => this.#emit('error', ref ? { error, ref } : { error }));
    this.#storeState = watchStore(this.#registry.ready);
    this.#tracker = new Tracker(this.#options, (event, ...args) => this.#emit(event, ...args), this.#registry);
    this.#startContext = {
      options: this.#options,
      tracker: this.#tracker,
      registry: this.#registry,
      signal: this.#lifetime.signal,
      promptCache: new Map(),
      onReconciled: (event) => this.#emit('reconciled', event),
    };
    if (store.subscribe) {
      const subscribe = store.subscribe.bind(store);
      // A store that fails to open is reported once, by the registry; only a failed subscribe is ours to report.
      this.#unsubscribe = this.#registry.ready.then(
        () =>
          subscribe((message) => this.#onFleetMessage(message)).catch((error: unknown) => {
            this.#emit('error', { error });
            return undefined;
          }),
        () => undefined,
      );
    }
    const { shutdown } = this.#options;
    if (shutdown) {
      this.#unregisterSignals = registerForSignals({ ...shutdown, shutdown: () => this.shutdown(), cutShort: () => this.#cutShort() });
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
    if (this.#state !== 'open') throw new ManagerClosedError(`cannot track ${describeRef(ref)}: the manager is ${this.#state === 'closed' ? 'closed' : 'shutting down'}`);
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
    // The deadline counts from the call, and a task found by reconciliation gets the same one.
    const deadline = deadlineOf(options, this.#options);
    // The caller's signal does not abort the create: the server may already have made the task, and
    // an aborted create would leave it running with nobody watching. It is tracked below, where the
    // signal (if it aborted meanwhile) cancels it at once.
    const creating = createOnce(this.#startContext, kind, backend, body, deadline);
    this.#creating.add(creating);
    let made: CreateResult;
    try {
      made = await creating;
    } finally {
      this.#creating.delete(creating);
    }
    const [first, ...duplicates] = made.tasks;
    // close() came while the answer was on its way: nothing may be tracked after close, and a task the
    // caller never hears of would run unwatched. The error names it, so the caller can act on it.
    if (this.#closing) {
      const id = first!.id;
      throw new ManagerClosedError(`the manager was closed while a ${kind} task was being created: ${kind}:${id} exists but is not tracked (cancel it, or track it with another manager)`, { ref: { kind, id } });
    }
    const trackOptions: TrackOptions = deadline === undefined ? { signal: options.signal } : { deadline, signal: options.signal };
    const records = made.tasks.map((task) => this.#track({ kind, id: task.id }, trackOptions));
    if (made.intent) this.#registry.remove(made.intent, refKey(made.intent));
    const record = records[0]!;
    record.handle.created = first!.created;
    record.handle.reconciled = made.reconciled;
    // A task created while shutdown began is tracked all the same and cancelled at once: never orphaned.
    if (this.#state !== 'open') for (const each of records) this.#tracker.requestCancel(each, 'shutdown').catch(() => {});
    else if (duplicates.length > 0 && this.#options.reconcile && this.#options.reconcile.duplicates === 'cancel') {
      void this.cancelMany(records.slice(1).map((each) => each.ref));
    }
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
  cancelMany(refs: readonly TaskRef[], options: CancelManyOptions = {}): Promise<BulkCancelResult> {
    const cap = this.#options.concurrency;
    const { concurrency = cap } = options;
    if (!Number.isInteger(concurrency) || concurrency < 1) return Promise.reject(new RangeError(`concurrency must be an integer ≥ 1, got ${concurrency}`));
    if (!Array.isArray(refs)) return Promise.reject(new TypeError('refs must be an array of { kind, id }'));
    if (options.onSettled !== undefined && typeof options.onSettled !== 'function') return Promise.reject(new TypeError('onSettled must be a function'));
    return this.#bulkCancel(refs, Math.min(concurrency, cap), 'user', options.onSettled);
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
    const { claimed, skipped, intents } = await claimOrphans({
      store: this.#options.store,
      workerId: this.#options.workerId,
      concurrency: this.#options.concurrency,
      canTrack: (kind) => this.#options.backends.has(kind),
      onError: (error, ref) => this.#emit('error', { error, ref }),
      track: (ref, deadline) => {
        if (this.#state === 'open') this.#track(ref, deadline === null ? {} : { deadline });
      },
    });
    const reconciled: ReconciledEvent[] = [];
    await Promise.all(
      intents.map(async (intent) => {
        const track = (ref: TaskRef, deadline: number | null): void => {
          if (this.#state === 'open') this.#track(ref, deadline === null ? {} : { deadline });
        };
        const event = await reconcileIntent(this.#startContext, this.#backend(intent.kind), intent, track).catch((error: unknown) => {
          // Unknown yet: the intent stays in the store, now ours; once this worker is gone (closed or
          // dead), the next recover() of the fleet tries it again.
          this.#emit('error', { error, ref: { kind: intent.kind, id: intent.id } });
          return undefined;
        });
        if (!event) return;
        reconciled.push(event);
        claimed.push(...event.refs);
      }),
    );
    const cancel = policy === 'cancel' ? await this.cancelMany(claimed) : undefined;
    return { policy, claimed, skipped, cancel, reconciled };
  }

  /**
   * A group of tasks under one deadline, one budget and one concurrency limit, for a pipeline step that
   * fans out many runs: start and track tasks through it, then `wait()` for all of them. Throws a
   * `TypeError` or `RangeError` naming an invalid option (`group.maxConcurrent`, …).
   *
   * @example
   * ```ts
   * import { AgentClient, TaskManager } from 'taskguard';
   *
   * const manager = new TaskManager({ agent: new AgentClient() });
   * const review = manager.group({ name: 'review', timeoutMs: 15 * 60_000, maxConcurrent: 3, failFast: true });
   * for (const pr of [101, 102, 103, 104]) {
   *   review.start('agent', { prompt: `Review pull request #${pr}` }).catch(() => {}); // wait() reports on every task
   * }
   * const result = await review.wait(); // never rejects
   * console.log(result.outcome, result.counts, `${result.taskMinutes.toFixed(1)} task-minutes`);
   * ```
   */
  group(options: GroupOptions = {}): TaskGroup {
    return new TaskGroup({ manager: this, clock: this.#options.clock, defaultTimeoutMs: this.#options.defaultTimeoutMs }, options);
  }

  /**
   * The live log stream of a run or task: the `data` objects of `AgentClient.streamLogs` for an agent
   * run, the `{ event, data }` of `CloudClient.streamLogs` for a cloud task (resumed after a dropped
   * connection). It ends with the task (`finish`, `complete`), when `signal` aborts or when the manager
   * closes; leaving the loop closes the connection. Throws a `ValidationError` for a kind without a client.
   *
   * @example
   * ```ts
   * import { AgentClient, TaskManager } from 'taskguard';
   *
   * const manager = new TaskManager({ agent: new AgentClient() });
   * const task = await manager.start('agent', { prompt: 'Fix the flaky login test' }, { timeoutMs: 600_000 });
   * for await (const event of manager.logs({ kind: 'agent', id: task.ref.id })) {
   *   if (event.type === 'text-delta') process.stdout.write(event.delta);
   * }
   * ```
   */
  logs(ref: TaskRef & { readonly kind: 'agent' }, options?: Pick<RequestOptions, 'signal'>): AsyncIterable<AgentLogEvent>;
  logs(ref: TaskRef & { readonly kind: 'cloud' }, options?: Pick<RequestOptions, 'signal'>): AsyncIterable<CloudStreamEvent>;
  logs(ref: TaskRef, options?: Pick<RequestOptions, 'signal'>): AsyncIterable<AgentLogEvent | CloudStreamEvent>;
  logs(ref: TaskRef, options: Pick<RequestOptions, 'signal'> = {}): AsyncIterable<AgentLogEvent | CloudStreamEvent> {
    checkRefId(ref);
    const lifetime = this.#lifetime.signal;
    const signal = options.signal ? AbortSignal.any([options.signal, lifetime]) : lifetime;
    const { agent, cloud } = this.#clients;
    if (ref.kind === 'agent' && agent) return agent.streamLogs(ref.id, { signal });
    if (ref.kind === 'cloud' && cloud) return cloud.streamLogs(ref.id, { signal });
    throw new ValidationError(`no log stream for ${describeRef(ref)}: logs() needs the ${ref.kind === 'cloud' ? 'cloud' : 'agent'} client of an agent or cloud task`);
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
    const cutShort = new Promise<void>((resolve) => (this.#endGrace = resolve));
    this.#shutdown = runShutdown({
      clock: this.#options.clock,
      graceMs,
      cutShort,
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

  /** A second signal with `exit: false`: the shutdown ends now, its unconfirmed tasks abandoned. */
  #cutShort(): void {
    this.#endGrace?.();
  }

  #onFleetMessage(message: { readonly type: string; readonly from: string }): void {
    if (message.type !== 'cancelAll' || message.from === this.#options.workerId || this.#state !== 'open') return;
    void this.cancelAll();
  }

  /**
   * Diagnostics: `tracked` tasks, `timersArmed` (at most 1, whatever the number of tasks), `requests`
   * in flight or queued, and `concurrency`, the limit on requests in flight in force: the
   * `concurrency` option, or less while the API answers 429 (see `adaptiveConcurrency`).
   */
  stats(): { readonly tracked: number; readonly timersArmed: number; readonly requests: number; readonly concurrency: number } {
    return this.#tracker.stats();
  }

  /**
   * For probes: `ready` (open, store open: it can take work), `state`, the tasks tracked, the store's
   * state, and when the manager's last API request succeeded and failed. Never throws, even once closed.
   */
  health(): ManagerHealth {
    return managerHealth(this.#state, this.#tracker.stats().tracked, this.#storeState(), this.#tracker.requests);
  }

  #track(ref: TaskRef, options: TrackOptions): TaskRecord {
    const backend = this.#backend(ref?.kind);
    checkRefId(ref);
    return this.#tracker.track({ kind: ref.kind, id: ref.id }, backend, deadlineOf(options, this.#options), options.signal, (r) => this.cancel(r));
  }

  /**
   * The records are looked up when the bulk call is made, not when each ref's turn comes: a task that
   * settles while it waits in the queue needs no request, its final status answers for it.
   */
  #bulkCancel(refs: readonly TaskRef[], concurrency: number, reason: 'user' | 'shutdown', onSettled?: CancelManyOptions['onSettled']): Promise<BulkCancelResult> {
    const known = new Map<TaskRef, TaskRecord>();
    for (const ref of refs) {
      const record = typeof ref?.kind === 'string' && typeof ref.id === 'string' ? this.#tracker.get(refKey(ref)) : undefined;
      if (record) known.set(ref, record);
    }
    return bulkCancel(refs, concurrency, (ref) => this.#cancelOne(ref, reason, known.get(ref)), onSettled);
  }

  async #cancelOne(ref: TaskRef, reason: 'user' | 'shutdown' = 'user', known?: TaskRecord): Promise<CancelValue> {
    const backend = this.#backend(ref?.kind);
    checkRefId(ref);
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
    if (event === 'error' && this.listenerCount('error') === 0) {
      const [{ error, ref }] = args as TaskManagerEvents['error'];
      return this.#warnings.report(error, ref);
    }
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

