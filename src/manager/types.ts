import type { TaskKind, TaskRef } from '../refs.js';

/** One state model for both APIs (and any custom backend). */
export type TaskState = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled' | 'interrupted';

/**
 * The states that never change again: `completed`, `failed`, `cancelled` and `interrupted`.
 *
 * @example
 * ```ts
 * import { TERMINAL_STATES, type TaskHandle } from 'taskguard';
 * declare const handle: TaskHandle;
 *
 * const state = handle.status?.state;
 * if (state !== undefined && TERMINAL_STATES.has(state)) console.log(`ended: ${state}`);
 * ```
 */
export const TERMINAL_STATES: ReadonlySet<TaskState> = new Set(['completed', 'failed', 'cancelled', 'interrupted']);

/** A remote status, normalized, with the raw word kept. */
export interface NormalizedStatus {
  /** The normalized state. */
  readonly state: TaskState;
  /** The status word the API sent, e.g. `in_progress`, `saving`, `stopped`. */
  readonly raw: string;
  /** The API's progress field, when it sends one. */
  readonly progress?: unknown;
  /** The API's error text, when it sends one. */
  readonly error?: string | null;
}

/** Options the manager passes to a backend call. */
export interface BackendCallOptions {
  /** Aborted when the manager no longer needs the answer. */
  readonly signal: AbortSignal;
  /**
   * Runs one HTTP attempt inside a slot of the manager's limiter. A backend that declares
   * `limitsAttempts: true` runs each attempt through it (the clients' `runAttempt` option), so that its
   * waits between retries hold no slot; for any other backend the manager holds a slot for the whole call.
   */
  readonly runAttempt?: <T>(attempt: () => Promise<T>) => Promise<T>;
}

/**
 * How the manager talks to one kind of remote task. Built in for `agent` and `cloud`; pass others in
 * the `backends` option. A backend throws typed errors (`NotFoundError` makes the task `lost`,
 * `AuthenticationError`/`PermissionDeniedError` end it with `error`, anything else is retried).
 *
 * @example
 * ```ts
 * import { TaskManager, type TaskBackend } from 'taskguard';
 * declare const ci: { buildState(id: string): Promise<'running' | 'completed' | 'failed'>; abortBuild(id: string): Promise<void> };
 *
 * const builds: TaskBackend = {
 *   getStatus: async (id) => { const raw = await ci.buildState(id); return { state: raw, raw }; },
 *   cancel: async (id) => { await ci.abortBuild(id); return { state: 'cancelled', raw: 'aborted' }; },
 * };
 * const manager = new TaskManager({ backends: { build: builds } });
 * manager.track({ kind: 'build', id: '1234' }, { timeoutMs: 30 * 60_000 });
 * ```
 */
export interface TaskBackend {
  /**
   * True when the backend runs each attempt of its calls through `options.runAttempt`: the manager then
   * limits attempts instead of whole calls (the built-in backends do).
   * @default false
   */
  readonly limitsAttempts?: boolean;
  /**
   * Cap on the pause a server's `Retry-After` may impose, in milliseconds (the built-in backends pass
   * their client's `maxRetryAfterMs`); the manager pauses polls for at most the smaller of this and its own.
   * @default unlimited: the manager's own `maxRetryAfterMs` applies
   */
  readonly maxRetryAfterMs?: number;
  /** The task's current status. */
  getStatus(id: string, options: BackendCallOptions): Promise<NormalizedStatus>;
  /**
   * Cancels or stops the task and resolves with its status afterwards. A refusal because the task is not
   * running (a `BadRequestError`, as both APIs answer 400 for a task that has ended or, on the Cloud
   * API, not started) may be thrown as it is: the manager then reads the status to settle it.
   */
  cancel(id: string, options: BackendCallOptions): Promise<NormalizedStatus>;
  /**
   * Creates a task from a request body; needed only for `TaskManager.start`. Resolves with the new
   * task's `id` and `created`, the API's answer (handed back as `StartedTask.created`).
   */
  create?(body: unknown, options: BackendCallOptions): Promise<{ readonly id: string; readonly created: unknown }>;
  /**
   * The kind's tasks created at or after `sinceMs`, from its list endpoint, at most `maxPages` pages:
   * what `start()` looks through when a create's answer was lost (see `TaskManagerOptions.reconcile`).
   * Without it, a lost answer makes `start()` reject.
   */
  listCreated?(sinceMs: number, options: BackendCallOptions & { readonly maxPages: number }): Promise<readonly CreatedTask[]>;
  /** The prompt texts of one task, for a backend whose list does not carry them (agent runs: `getTask` → `messages`). */
  promptsOf?(id: string, options: BackendCallOptions): Promise<readonly string[]>;
  /**
   * The kind's tasks from its list endpoint, one page per iteration step: task ID → status, the raw word
   * in the words the status endpoint uses (an agent list's `running` is `in_progress` here), so that an
   * unchanged status compares equal and a `status` event means a real change. It may list only the live
   * tasks, as the built-in backends do. With it, list sweeps (`poll.sweep`) learn many tasks' status in
   * one request; the manager still reads with `getStatus` every task a page shows ended, or a complete
   * list leaves out, before it settles it.
   *
   * The manager takes one step at a time in one slot of its limiter, like a poll: make one request per
   * step, without retries (a failed page makes the manager poll each task for a while), and throw on an
   * answer of an unexpected shape. It stops iterating after a bound of about one page per 100 tasks.
   */
  listStatuses?(options: BackendCallOptions): AsyncIterable<ReadonlyMap<string, NormalizedStatus>>;
}

/** A task as a list shows it, for reconciling a create whose answer was lost. */
export interface CreatedTask {
  /** The task's ID. */
  readonly id: string;
  /** When it was created, in milliseconds since the epoch; `undefined` when the list does not say. */
  readonly createdAt: number | undefined;
  /** Its prompt, when the list carries it (cloud tasks do). */
  readonly prompt?: string;
  /** What `start()` hands back as `created` when it adopts the task: the list entry, shaped like a create's answer. */
  readonly created: unknown;
}

/** How tracking of one task ended. */
export type TaskOutcome = 'completed' | 'failed' | 'cancelled' | 'timed_out' | 'interrupted' | 'lost' | 'error';

/** What `done` resolves with. */
export interface TaskResult {
  /** The task's kind (`agent`, `cloud` or a custom backend's). */
  readonly kind: TaskKind;
  /** The task's ID. */
  readonly id: string;
  /** How tracking ended. */
  readonly outcome: TaskOutcome;
  /** The last raw status word seen from the API, or `null` if none was ever seen. */
  readonly status: string | null;
  /** For `error` (and `lost`): the typed error that ended tracking. */
  readonly error?: Error;
}

/** Why the manager cancelled a task. */
export type CancelReason = 'deadline' | 'signal' | 'user' | 'shutdown';

/** A tracked task. */
export interface TaskHandle {
  /** The task. */
  readonly ref: TaskRef;
  /** The deadline in milliseconds since the epoch, if it has one. */
  readonly deadline: number | undefined;
  /** Resolves (never rejects) when tracking ends. */
  readonly done: Promise<TaskResult>;
  /** The last status seen, if any. */
  readonly status: NormalizedStatus | undefined;
  /** Cancels the task; same as `manager.cancel(ref)`. */
  cancel(): Promise<CancelValue>;
}

/** A successful cancel: the task was cancelled now, or had already finished. */
export interface CancelValue {
  /** `cancelled` (it is cancelled, or stopping) or `alreadyDone` (it had finished on its own). */
  readonly result: 'cancelled' | 'alreadyDone';
  /** The task's status after the cancel. */
  readonly status: NormalizedStatus;
}

/**
 * One entry of a bulk cancel, shaped like `Promise.allSettled`'s with the ref:
 * `{ ref, status: 'fulfilled', value }` (a {@link CancelValue}) or `{ ref, status: 'rejected', reason }`
 * (the error).
 */
export type BulkCancelEntry =
  | { readonly ref: TaskRef; readonly status: 'fulfilled'; readonly value: CancelValue }
  | { readonly ref: TaskRef; readonly status: 'rejected'; readonly reason: unknown };

/** What `cancelMany` and `cancelAll` resolve with; they never reject. */
export interface BulkCancelResult {
  /** One entry per ref, in input order. */
  readonly results: readonly BulkCancelEntry[];
  /** Totals over `results`: `cancelled` and `alreadyDone` (fulfilled entries) and `failed` (rejected ones). */
  readonly counts: { readonly cancelled: number; readonly alreadyDone: number; readonly failed: number };
}

/** What `shutdown` resolves with. */
export interface ShutdownReport {
  /** Tasks whose cancel was confirmed (or which ended) within the grace period, with their outcome. */
  readonly settled: readonly TaskResult[];
  /** Tasks that had finished on their own before the cancel reached them. */
  readonly alreadyDone: readonly TaskRef[];
  /** Tasks whose cancel could not be confirmed within the grace period. */
  readonly unconfirmed: readonly TaskRef[];
  /** The bulk cancel that shutdown issued. */
  readonly cancel: BulkCancelResult;
  /** How long shutdown took, in milliseconds. */
  readonly durationMs: number;
}
