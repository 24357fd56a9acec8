import type { TaskRef } from '../refs.js';
import { BlackboxError } from './base.js';

/**
 * Bad input, refused before any request was sent: an empty or malformed ID, a title outside 1–200
 * characters, a missing prompt, no API key (the message names the environment variable), a task kind
 * without a backend.
 *
 * @example
 * ```ts
 * import { AgentClient, ValidationError } from 'taskguard';
 *
 * try {
 *   await new AgentClient().rename('3f1c2a9e-8b7d-4c55-9e0f-2a1b3c4d5e6f', ''); // a title has 1–200 characters
 * } catch (error) {
 *   if (!(error instanceof ValidationError)) throw error;
 *   console.error(error.message); // nothing was sent
 * }
 * ```
 */
export class ValidationError extends BlackboxError {
  /** Always `'ValidationError'`: the class name, as stack traces and logs show it. */
  override name = 'ValidationError' as const;
}

/**
 * A task did not finish within its deadline; the manager cancelled (or stopped) it. `TaskManager.wait`
 * rejects with it.
 *
 * @example
 * ```ts
 * import { TaskManager, TaskTimeoutError, type TaskRef } from 'taskguard';
 * declare const manager: TaskManager;
 * declare const ref: TaskRef;
 *
 * try {
 *   console.log((await manager.wait(ref, { timeoutMs: 5 * 60_000 })).outcome);
 * } catch (error) {
 *   if (!(error instanceof TaskTimeoutError)) throw error;
 *   console.warn(`${error.ref.kind}:${error.ref.id} was cancelled at its deadline`);
 * }
 * ```
 */
export class TaskTimeoutError extends BlackboxError {
  /** Always `'TaskTimeoutError'`: the class name, as stack traces and logs show it. */
  override name = 'TaskTimeoutError' as const;
  /** The task that timed out. */
  readonly ref: TaskRef;
  /** The deadline it had, in milliseconds since the epoch. */
  readonly deadline: number;

  /** `ref` is the task, `deadline` the one it missed (epoch milliseconds). */
  constructor(ref: TaskRef, deadline: number, options?: { readonly cause?: unknown }) {
    super(`Task ${ref.kind}:${ref.id} did not finish by its deadline (${new Date(deadline).toISOString()})`, options);
    this.ref = ref;
    this.deadline = deadline;
  }
}

/**
 * A registry store failed: it could not be opened (a locked journal, Redis unreachable) or a write failed.
 * `cause` holds the store's own error.
 *
 * @example
 * ```ts
 * import { AgentClient, FileStore, StoreError, TaskManager } from 'taskguard';
 *
 * const manager = new TaskManager({ agent: new AgentClient(), store: new FileStore({ path: './tasks.jsonl' }) });
 * try {
 *   await manager.ready();
 * } catch (error) {
 *   if (!(error instanceof StoreError)) throw error;
 *   console.error(error.message, error.cause); // e.g. the journal is locked by another live process
 * }
 * ```
 */
export class StoreError extends BlackboxError {
  /** Always `'StoreError'`: the class name, as stack traces and logs show it. */
  override name = 'StoreError' as const;
}

/**
 * The manager no longer tracks tasks: `track`/`start` after `shutdown()` or `close()`, or a task whose
 * tracking ended because the manager closed before its cancel was confirmed.
 *
 * @example
 * ```ts
 * import { ManagerClosedError, TaskManager } from 'taskguard';
 * declare const manager: TaskManager;
 *
 * try {
 *   await manager.start('agent', { prompt: 'Triage the new issues' });
 * } catch (error) {
 *   if (!(error instanceof ManagerClosedError)) throw error;
 *   console.warn('shutting down: no new work');
 * }
 * ```
 */
export class ManagerClosedError extends BlackboxError {
  /** Always `'ManagerClosedError'`: the class name, as stack traces and logs show it. */
  override name = 'ManagerClosedError' as const;
  /** The task concerned, when there is one: e.g. one whose create answered after `close()` and that nobody tracks. */
  readonly ref: TaskRef | undefined;

  /** `options.ref` names the task concerned, if any; `options.cause` the underlying error. */
  constructor(message: string, options: { readonly ref?: TaskRef; readonly cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.ref = options.ref;
  }
}
