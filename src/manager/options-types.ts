/**
 * The public options of a {@link TaskManager}: types only, so that what a caller may pass and its
 * documentation read on their own; the values live in {@link MANAGER_DEFAULTS}, the checks in `options.ts`.
 * @module
 */
import type { AgentClient } from '../clients/agent.js';
import type { CloudClient } from '../clients/cloud.js';
import type { BackoffPolicy } from '../util/backoff.js';
import type { TaskStore } from '../stores/types.js';
import type { Clock } from './clock.js';
import type { TaskBackend } from './types.js';

/**
 * Signal handling of a manager (see `TaskManagerOptions.shutdown`).
 *
 * @example
 * ```ts
 * import { AgentClient, TaskManager, type ShutdownOptions } from 'taskguard';
 *
 * // Kubernetes sends SIGTERM, then SIGKILL after 30 s: cancel within 20 s, then let the app exit.
 * const shutdown: ShutdownOptions = { signals: ['SIGTERM'], graceMs: 20_000, exit: false };
 * const manager = new TaskManager({ agent: new AgentClient(), shutdown });
 * manager.on('shutdown', (report) => console.log(`${report.unconfirmed.length} cancels unconfirmed`));
 * ```
 */
export interface ShutdownOptions {
  /**
   * Signals that start a graceful shutdown.
   * @default ["SIGINT", "SIGTERM"]
   */
  readonly signals?: readonly NodeJS.Signals[];
  /**
   * How long shutdown waits for cancels to be confirmed, in milliseconds.
   * @default 10000
   */
  readonly graceMs?: number;
  /**
   * Exit the process after shutdown, with 128 + the signal number (130 for SIGINT, 143 for SIGTERM).
   * @default true
   */
  readonly exit?: boolean;
}

/**
 * Options of {@link TaskManager}. Every field is optional, but a manager needs a client (or a backend)
 * for each kind of task it tracks; the defaults are in {@link MANAGER_DEFAULTS}.
 *
 * @example
 * ```ts
 * import { AgentClient, CloudClient, TaskManager, type TaskManagerOptions } from 'taskguard';
 *
 * const options: TaskManagerOptions = {
 *   agent: new AgentClient(),
 *   cloud: new CloudClient(),
 *   concurrency: 8,
 *   poll: { maxMs: 10_000 }, // someone is waiting: poll at least every 10 s
 *   defaultTimeoutMs: 30 * 60_000,
 *   shutdown: true,
 * };
 * const manager = new TaskManager(options);
 * console.log(manager.workerId); // `${hostname}-${pid}-${random suffix}` unless you pass one
 * ```
 */
export interface TaskManagerOptions {
  /** Client of the Agent API; needed to track `agent` refs. */
  readonly agent?: AgentClient;
  /** Client of the Cloud API; needed to track `cloud` refs. */
  readonly cloud?: CloudClient;
  /** Backends of other kinds of task, by kind. */
  readonly backends?: Readonly<Record<string, TaskBackend>>;
  /**
   * Cap on API requests in flight at once, polls and cancels together.
   * @default 16
   */
  readonly concurrency?: number;
  /**
   * Adapt the number of requests in flight to the server's rate limit: 429 answers in a row lower it by
   * a quarter (never below 1; a burst of 429s from requests already in flight counts once), a 429 at a
   * limit where such a run came before takes one step back, and successes raise it again one step at a
   * time, never above `concurrency`. Any other lone 429 amid successes is taken for a blip. Cancels
   * still go ahead of polls. `stats().concurrency` is the limit in force. `false` keeps it at
   * `concurrency` whatever the answers (see docs/performance.md).
   * @default true
   */
  readonly adaptiveConcurrency?: boolean;
  /**
   * Polling cadence per task: the first poll at once, the next after `initialMs`, then growing by
   * `factor` up to `maxMs`, with `jitter` (0–1) of each delay random. A status change resets it to
   * `initialMs`. `sweep` lets one list request answer for many tasks (see {@link PollOptions.sweep}).
   * @default { initialMs: 1000, maxMs: 30000, factor: 2, jitter: 1, sweep: true }
   */
  readonly poll?: PollOptions;
  /**
   * Deadline of a task tracked without `timeoutMs` or `deadline`, in milliseconds from `track`.
   * @default undefined (no deadline)
   */
  readonly defaultTimeoutMs?: number;
  /**
   * Graceful shutdown on process signals. Off unless given: `true` for the defaults, or options.
   * @default false
   */
  readonly shutdown?: ShutdownOptions | boolean;
  /**
   * Where time comes from: `Date.now`/`setTimeout` by default; pass a fake (such as an adapter over
   * `@sinonjs/fake-timers`' `createClock()`, see {@link Clock}) to drive polling and deadlines in tests.
   */
  readonly clock?: Clock;
  /**
   * Random numbers in [0, 1) for jitter; seed it to replay a run.
   * @default Math.random
   */
  readonly random?: () => number;
  /**
   * Where the tracked set lives: `MemoryStore` (this process only), `FileStore` (a durable journal on
   * local disk) or `RedisStore` (one registry for a fleet of workers).
   * @default new MemoryStore()
   */
  readonly store?: TaskStore;
  /**
   * This worker's name in the store: the owner of the tasks it tracks.
   * @default `${hostname}-${pid}-${random suffix}`
   */
  readonly workerId?: string;
  /**
   * How long this worker's lease lasts without renewal, in milliseconds; it is renewed every third of
   * it. Another worker may recover this one's tasks once its lease has expired.
   * @default 15000
   */
  readonly leaseMs?: number;
  /**
   * Cap on how long one 429's `Retry-After` pauses the manager's polls, in milliseconds; the pause is
   * the smaller of this and the client's own `maxRetryAfterMs`. Cancels are never paused.
   * @default 60000
   */
  readonly maxRetryAfterMs?: number;
  /**
   * Where an `error` event goes when nobody listens for it (a failed store write, a lost lease, a poll
   * that failed): any object with a `warn(...)` method, such as pino or `console`. Without one, such
   * errors become `process.emitWarning` warnings named `TaskguardWarning`, the same message at most
   * once a minute. Nothing is dropped silently.
   * @default undefined (process warnings)
   */
  readonly logger?: TaskguardLogger;
  /**
   * What `start()` does when a create's answer is lost (a timeout, a reset after sending, a 5xx, a
   * proxy's HTML page): it looks the task up in the kind's list instead of sending the create again
   * blindly (see docs/exactly-once.md). `false` makes such a `start()` reject with the create's error.
   * @default { skewMs: 5000, duplicates: 'track', settleMs: 1000, maxPages: 10 }
   */
  readonly reconcile?: false | ReconcileOptions;
}

/**
 * The `poll` option of {@link TaskManagerOptions}: the cadence of each task's status reads, and list sweeps.
 *
 * @example
 * ```ts
 * import { AgentClient, TaskManager, type PollOptions } from 'taskguard';
 *
 * // Every task on its own status endpoint, at most 10 s apart: no list requests.
 * const poll: PollOptions = { maxMs: 10_000, sweep: false };
 * const manager = new TaskManager({ agent: new AgentClient(), poll });
 * console.log(manager.stats().tracked); // 0
 * ```
 */
export interface PollOptions extends Partial<BackoffPolicy> {
  /**
   * List sweeps: while four or more tasks of a kind whose backend can list (agent, cloud) are tracked,
   * one request to the kind's list answers for up to 100 of them, about as often as a task is polled once
   * its polls have backed off to `maxMs`; a task the list shows live skips its own polls (a new status
   * word there is a `status` event). The list is a hint: a task it shows ended, or leaves out, is read on
   * its status endpoint before it settles, and a failed or malformed list makes the manager poll each
   * task for a while (an `error` event says so). `false`: every task is polled on its own status endpoint.
   * @default true
   */
  readonly sweep?: boolean;
}

/** Options of reconciliation (`TaskManagerOptions.reconcile`). */
export interface ReconcileOptions {
  /**
   * Allowance for the server's clock being behind this one: tasks created up to this long before the
   * request left still count, in milliseconds.
   * @default 5000
   */
  readonly skewMs?: number;
  /**
   * Several tasks match (duplicates): `track` watches every one; `cancel` also cancels all but the oldest.
   * @default 'track'
   */
  readonly duplicates?: 'track' | 'cancel';
  /**
   * How long to wait before the second look at the list, for an API whose list lags, in milliseconds.
   * @default 1000
   */
  readonly settleMs?: number;
  /**
   * How many list pages (of 100) one look reads at most: the list's order is not documented, so every
   * page up to this bound is read.
   * @default 10
   */
  readonly maxPages?: number;
}

/**
 * What the `logger` option takes: pino, bunyan, winston and `console` all fit.
 *
 * @example
 * ```ts
 * import { AgentClient, TaskManager, type TaskguardLogger } from 'taskguard';
 *
 * const logger: TaskguardLogger = { warn: (...args) => console.warn('[taskguard]', ...args) };
 * const manager = new TaskManager({ agent: new AgentClient(), logger });
 * console.log(manager.active()); // []
 * ```
 */
export interface TaskguardLogger {
  /** Called as `warn({ err, ref? }, message)`, pino's convention: the error, the task's ref when there is one, and a one-line message. */
  warn(...args: unknown[]): unknown;
}
