/**
 * The manager's defaults, in one constant that callers read and `options.ts` falls back to, so that the
 * documented default and the applied one cannot drift apart.
 * @module
 */

/**
 * Manager defaults, in one place: the values {@link TaskManagerOptions} and {@link ShutdownOptions} fall
 * back to.
 *
 * @example
 * ```ts
 * import { AgentClient, MANAGER_DEFAULTS, TaskManager } from 'taskguard';
 *
 * // Polls twice as far apart as by default at first, and at most a minute apart.
 * const manager = new TaskManager({
 *   agent: new AgentClient(),
 *   poll: { initialMs: 2 * MANAGER_DEFAULTS.poll.initialMs, maxMs: 60_000 },
 * });
 * console.log(manager.stats()); // { tracked: 0, timersArmed: 0, requests: 0, concurrency: 16 }
 * ```
 */
export const MANAGER_DEFAULTS = {
  /** API requests in flight at once, polls and cancels together: 16. */
  concurrency: 16,
  /** The limit on requests in flight follows 429 answers, under `concurrency`. */
  adaptiveConcurrency: true,
  /** Polling cadence: from 1 s, doubling up to 30 s, full jitter (a {@link BackoffPolicy}), with list sweeps. */
  poll: {
    initialMs: 1_000,
    maxMs: 30_000,
    factor: 2,
    jitter: 1,
    /** List sweeps answer for many tasks of a kind at once (see {@link PollOptions.sweep}). */
    sweep: true,
  },
  /** How long a shutdown waits for its cancels to be confirmed: 10 s. */
  graceMs: 10_000,
  /** The signals that start a graceful shutdown. */
  signals: ['SIGINT', 'SIGTERM'],
  /** How long a worker's lease in the store lasts without renewal: 15 s. */
  leaseMs: 15_000,
  /** Longest poll pause one 429's `Retry-After` can cause: 60 s. */
  maxRetryAfterMs: 60_000,
  /** Reconciliation of creates whose answer was lost: 5 s of clock skew, duplicates tracked, 1 s between looks, 10 pages. */
  reconcile: {
    /** Clock skew allowed between this process and the server: 5 s. */
    skewMs: 5_000,
    /** Duplicates found by reconciliation are tracked, not cancelled. */
    duplicates: 'track',
    /** Wait before the second look at the list: 1 s. */
    settleMs: 1_000,
    /** List pages (of 100) read per look: 10. */
    maxPages: 10,
  },
} as const;
