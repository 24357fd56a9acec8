import { BadRequestError, ValidationError } from '../errors/classes.js';
import { refKey, type TaskRef } from '../refs.js';
import type { CancelManyOptions, TrackOptions } from './api-types.js';
import { bulkCancel } from './bulk.js';
import type { Emit } from './emit.js';
import { cancelValueOf, checkRefId, deadlineOf } from './helpers.js';
import type { ResolvedManagerOptions } from './options.js';
import type { TaskRecord } from './record.js';
import type { Tracker } from './tracker.js';
import { TERMINAL_STATES, type BulkCancelResult, type CancelValue, type NormalizedStatus, type TaskBackend } from './types.js';

/**
 * The track and cancel plumbing under the manager's public methods: the backend of a kind, tracking a
 * ref, and cancelling one ref or many, tracked or not.
 * @module
 */

/** Tracks and cancels refs on one manager's tracker. */
export class TaskOps {
  readonly #options: ResolvedManagerOptions;
  readonly #tracker: Tracker;
  /** The manager's lifetime: the cancel of an untracked task ends with it. */
  readonly #lifetime: AbortSignal;
  /** What a handle's `cancel()` calls: the manager's own `cancel()`. */
  readonly #cancel: (ref: TaskRef) => Promise<CancelValue>;
  readonly #emit: Emit;

  constructor(options: ResolvedManagerOptions, tracker: Tracker, lifetime: AbortSignal, cancel: (ref: TaskRef) => Promise<CancelValue>, emit: Emit) {
    this.#options = options;
    this.#tracker = tracker;
    this.#lifetime = lifetime;
    this.#cancel = cancel;
    this.#emit = emit;
  }

  /** The backend of `kind`; a `ValidationError` that says which option provides it if there is none. */
  backend(kind: unknown): TaskBackend {
    const backend = typeof kind === 'string' ? this.#options.backends.get(kind) : undefined;
    if (backend) return backend;
    const hint = kind === 'agent' ? ' (pass { agent: new AgentClient() })' : kind === 'cloud' ? ' (pass { cloud: new CloudClient() })' : ' (pass it in { backends })';
    throw new ValidationError(`no backend for task kind ${JSON.stringify(kind)}${hint}`);
  }

  /** Tracks `ref` whatever the manager's state: the callers decide whether it may still take work. */
  track(ref: TaskRef, options: TrackOptions): TaskRecord {
    const backend = this.backend(ref?.kind);
    checkRefId(ref);
    return this.#tracker.track({ kind: ref.kind, id: ref.id }, backend, deadlineOf(options, this.#options), options.signal, this.#cancel);
  }

  /** Cancels `ref`, tracked or not; `known` is its record as a bulk call found it. */
  async cancelOne(ref: TaskRef, reason: 'user' | 'shutdown' = 'user', known?: TaskRecord): Promise<CancelValue> {
    const backend = this.backend(ref?.kind);
    checkRefId(ref);
    const record = known ?? this.#tracker.get(refKey(ref));
    if (record?.settled) return settledCancelValue(record);
    if (record) return this.#tracker.requestCancel(record, reason);
    return this.#cancelUntracked(ref, backend);
  }

  /**
   * Cancels a task the manager does not track, attempt by attempt in the tracker's limiter. A refusal
   * (400) is settled by a status read: a task that has ended counts as already done; one that has not
   * stays refused.
   */
  async #cancelUntracked(ref: TaskRef, backend: TaskBackend): Promise<CancelValue> {
    const signal = this.#lifetime;
    let status: NormalizedStatus;
    try {
      status = await this.#tracker.limited(backend, (options) => backend.cancel(ref.id, options), signal);
    } catch (error) {
      if (!(error instanceof BadRequestError)) throw error;
      status = await this.#tracker.limited(backend, (options) => backend.getStatus(ref.id, options), signal);
      if (!TERMINAL_STATES.has(status.state)) throw error;
    }
    const value = cancelValueOf(status);
    if (value.result === 'cancelled') this.#emit('cancelled', { ref, reason: 'user', status });
    return value;
  }

  /** What `TaskManager.cancelMany()` does (documented there). */
  cancelMany(refs: readonly TaskRef[], options: CancelManyOptions): Promise<BulkCancelResult> {
    const cap = this.#options.concurrency;
    const { concurrency = cap } = options;
    if (!Number.isInteger(concurrency) || concurrency < 1) return Promise.reject(new RangeError(`concurrency must be an integer ≥ 1, got ${concurrency}`));
    if (!Array.isArray(refs)) return Promise.reject(new TypeError('refs must be an array of { kind, id }'));
    if (options.onSettled !== undefined && typeof options.onSettled !== 'function') return Promise.reject(new TypeError('onSettled must be a function'));
    return this.bulkCancel(refs, Math.min(concurrency, cap), 'user', options.onSettled);
  }

  /**
   * The records are looked up when the bulk call is made, not when each ref's turn comes: a task that
   * settles while it waits in the queue needs no request, its final status answers for it.
   */
  bulkCancel(refs: readonly TaskRef[], concurrency: number, reason: 'user' | 'shutdown', onSettled?: CancelManyOptions['onSettled']): Promise<BulkCancelResult> {
    const known = new Map<TaskRef, TaskRecord>();
    for (const ref of refs) {
      const record = typeof ref?.kind === 'string' && typeof ref.id === 'string' ? this.#tracker.get(refKey(ref)) : undefined;
      if (record) known.set(ref, record);
    }
    return bulkCancel(refs, concurrency, (ref) => this.cancelOne(ref, reason, known.get(ref)), onSettled);
  }
}

/** What a cancel of a task that has already settled amounts to: its final status, or its error. */
async function settledCancelValue(record: TaskRecord): Promise<CancelValue> {
  if (record.status && TERMINAL_STATES.has(record.status.state)) return cancelValueOf(record.status);
  const result = await record.done;
  throw result.error ?? new Error(`tracking of ${record.key} ended as ${result.outcome}`);
}
