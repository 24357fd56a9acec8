import { EventEmitter } from 'eventemitter3';
import type { RequestOptions } from '../clients/request-types.js';
import type { AgentLogEvent } from '../clients/agent-log-types.js';
import type { CloudStreamEvent } from '../clients/cloud-log-types.js';
import type { AgentCreateTaskBody, AgentCreateTaskResponse } from '../clients/agent-types.js';
import type { CloudCreateTaskBody, CloudTaskResponse } from '../clients/cloud-types.js';
import { TaskTimeoutError } from '../errors/classes.js';
import type { TaskKind, TaskRef } from '../refs.js';
import { builtInBackends, describeRef, raceAbort } from './helpers.js';
import type { CancelManyOptions, RecoverOptions, RecoveryReport, StartedTask, TrackOptions, WaitOptions } from './api-types.js';
import { safeEmitter } from './emit.js';
import type { TaskManagerEvents } from './events.js';
import { Fleet } from './fleet.js';
import { TaskGroup } from './group.js';
import type { GroupOptions } from './group-types.js';
import { managerHealth, watchStore, type ManagerHealth, type StoreState } from './health.js';
import { Lifecycle } from './lifecycle.js';
import { LogStreams } from './logs.js';
import { resolveManagerOptions, type TaskManagerOptions } from './options.js';
import type { ManagerParts } from './parts.js';
import { recoverOrphans } from './recovery.js';
import { Registry } from './registry.js';
import type { StartContext } from './start.js';
import { startTask } from './start-task.js';
import { TaskOps } from './task-ops.js';
import { Tracker } from './tracker.js';
import type { BulkCancelResult, CancelValue, ShutdownReport, TaskHandle, TaskResult } from './types.js';

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
  readonly #parts: ManagerParts;
  readonly #logs: LogStreams;
  readonly #storeState: () => StoreState;

  /**
   * Creates a manager; nothing is sent to the APIs. Throws a `TypeError` or `RangeError` naming an
   * invalid option. With `shutdown`, installs the signal handlers at once; the store opens in the
   * background (see {@link TaskManager.ready}).
   */
  constructor(options: TaskManagerOptions = {}) {
    super();
    const resolved = resolveManagerOptions(options, builtInBackends);
    const lifecycle = new Lifecycle();
    this.#logs = new LogStreams(options, lifecycle.signal);
    const emit = safeEmitter(this, resolved.logger);
    const { store, workerId, leaseMs, clock } = resolved;
    const registry = new Registry(store, workerId, leaseMs, clock, (error, ref) => emit('error', ref ? { error, ref } : { error }));
    this.#storeState = watchStore(registry.ready);
    const tracker = new Tracker(resolved, emit, registry);
    const context: StartContext = {
      options: resolved,
      tracker,
      registry,
      signal: lifecycle.signal,
      promptCache: new Map(),
      onReconciled: (event) => emit('reconciled', event),
    };
    const ops = new TaskOps(resolved, tracker, lifecycle.signal, (ref) => this.cancel(ref), emit);
    const fleet = new Fleet({ options: resolved, registry, emit, lifecycle, manager: this });
    this.#parts = { options: resolved, tracker, registry, context, lifecycle, ops, fleet, emit, manager: this };
    if (resolved.shutdown) lifecycle.handleSignals(resolved.shutdown, this);
  }

  /** This worker's name in the store. */
  get workerId(): string {
    return this.#parts.options.workerId;
  }

  /** Resolves once the store is open (a `FileStore`'s lock taken, a `RedisStore` connected); rejects if it cannot be. */
  ready(): Promise<void> {
    return this.#parts.registry.ready;
  }

  /** Starts tracking a task; tracking the same ref again returns the same handle (with the earlier deadline). */
  track(ref: TaskRef, options: TrackOptions = {}): TaskHandle {
    const { lifecycle, ops } = this.#parts;
    if (lifecycle.state !== 'open') throw lifecycle.refusal(`track ${describeRef(ref)}`);
    return ops.track(ref, options).handle;
  }

  /** Creates a remote task through the backend of `kind` and tracks it. */
  start(kind: 'agent', body: AgentCreateTaskBody, options?: TrackOptions): Promise<StartedTask<AgentCreateTaskResponse>>;
  start(kind: 'cloud', body: CloudCreateTaskBody, options?: TrackOptions): Promise<StartedTask<CloudTaskResponse>>;
  start(kind: TaskKind, body: unknown, options?: TrackOptions): Promise<StartedTask<unknown>>;
  start(kind: TaskKind, body: unknown, options: TrackOptions = {}): Promise<StartedTask<unknown>> {
    return startTask(this.#parts, kind, body, options);
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
    const cancelling = this.#parts.ops.cancelOne(ref);
    return options.signal ? raceAbort(cancelling, options.signal) : cancelling;
  }

  /**
   * Cancels many tasks, tracked or not, at most `concurrency` at once (never more than the manager's cap).
   * Never rejects: one allSettled-style entry per ref, in input order, and the counts.
   */
  cancelMany(refs: readonly TaskRef[], options: CancelManyOptions = {}): Promise<BulkCancelResult> {
    return this.#parts.ops.cancelMany(refs, options);
  }

  /**
   * Cancels every tracked task. Never rejects. With `scope: 'fleet'` (a store shared by several
   * workers), every live worker of the store is asked to cancel all of its tasks too, and the tasks of
   * workers that are gone are claimed and cancelled here; the result then covers this worker's tasks and
   * the orphans.
   */
  cancelAll(options: { readonly scope?: 'worker' | 'fleet' } = {}): Promise<BulkCancelResult> {
    return this.#parts.fleet.cancelAll(options);
  }

  /**
   * Finds tasks whose owner is gone (a crashed process: its lease expired, or the journal of a dead
   * process), claims them atomically and cancels them or tracks them on. A stored deadline holds: a
   * resumed task past its deadline is cancelled at once.
   */
  recover(options: RecoverOptions): Promise<RecoveryReport> {
    return recoverOrphans(this.#parts, options);
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
    return new TaskGroup({ manager: this, clock: this.#parts.options.clock, defaultTimeoutMs: this.#parts.options.defaultTimeoutMs }, options);
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
    return this.#logs.open(ref, options);
  }

  /** Refs still tracked. */
  active(): TaskRef[] {
    return this.#parts.tracker.activeRefs();
  }

  /**
   * Stops accepting work, cancels every tracked task, waits up to `graceMs` for the cancels to be
   * confirmed, then closes the manager. Calling it again returns the same report.
   */
  shutdown(options: { readonly graceMs?: number } = {}): Promise<ShutdownReport> {
    return this.#parts.lifecycle.shutdown(this.#parts, options);
  }

  /**
   * Removes the signal handlers and every timer. Tasks still tracked stop being tracked (their `done`
   * resolves with outcome `error`) but are NOT cancelled: use `shutdown()` for that. They stay in a
   * durable store, where `recover()` finds them. Resolves when the store has been written and closed.
   */
  close(): Promise<void> {
    return this.#parts.lifecycle.close(this.#parts);
  }

  /**
   * Diagnostics: `tracked` tasks, `timersArmed` (at most 1, whatever the number of tasks), `requests`
   * in flight or queued, and `concurrency`, the limit on requests in flight in force: the
   * `concurrency` option, or less while the API answers 429 (see `adaptiveConcurrency`).
   */
  stats(): { readonly tracked: number; readonly timersArmed: number; readonly requests: number; readonly concurrency: number } {
    return this.#parts.tracker.stats();
  }

  /**
   * For probes: `ready` (open, store open: it can take work), `state`, the tasks tracked, the store's
   * state, and when the manager's last API request succeeded and failed. Never throws, even once closed.
   */
  health(): ManagerHealth {
    const { lifecycle, tracker } = this.#parts;
    return managerHealth(lifecycle.state, tracker.stats().tracked, this.#storeState(), tracker.requests);
  }
}
