/**
 * Manager options at construction: each option checked, naming the one that is wrong, and the defaults
 * applied. The public option types and defaults are re-exported, so that importers keep this one path.
 * @module
 */
import { validateBackoffPolicy, type BackoffPolicy } from '../util/backoff.js';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { MemoryStore } from '../stores/memory.js';
import type { TaskStore } from '../stores/types.js';
import { systemClock, type Clock } from './clock.js';
import { MANAGER_DEFAULTS } from './options-defaults.js';
import type { ReconcileOptions, ShutdownOptions, TaskManagerOptions, TaskguardLogger } from './options-types.js';
import type { TaskBackend } from './types.js';

export { MANAGER_DEFAULTS } from './options-defaults.js';
export type { PollOptions, ReconcileOptions, ShutdownOptions, TaskManagerOptions, TaskguardLogger } from './options-types.js';

/** Options after defaults and checks. */
export interface ResolvedManagerOptions {
  readonly backends: ReadonlyMap<string, TaskBackend>;
  readonly concurrency: number;
  readonly adaptiveConcurrency: boolean;
  readonly poll: BackoffPolicy;
  readonly sweep: boolean;
  readonly defaultTimeoutMs: number | undefined;
  readonly shutdown: Required<ShutdownOptions> | false;
  readonly clock: Clock;
  readonly random: () => number;
  readonly store: TaskStore;
  readonly workerId: string;
  readonly leaseMs: number;
  readonly maxRetryAfterMs: number;
  readonly logger: TaskguardLogger | undefined;
  readonly reconcile: Required<ReconcileOptions> | false;
}

/** Applies defaults and checks each option, naming the one that is wrong. */
export function resolveManagerOptions(options: TaskManagerOptions, builtIn: (options: TaskManagerOptions) => Map<string, TaskBackend>): ResolvedManagerOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('TaskManager options must be an object');
  const backends = builtIn(options);
  for (const [kind, backend] of Object.entries(options.backends ?? {})) {
    if (typeof backend?.getStatus !== 'function' || typeof backend.cancel !== 'function') {
      throw new TypeError(`backends.${kind} must have getStatus(id, { signal }) and cancel(id, { signal })`);
    }
    backends.set(kind, backend);
  }
  const concurrency = options.concurrency ?? MANAGER_DEFAULTS.concurrency;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be an integer ≥ 1, got ${concurrency}`);
  const adaptiveConcurrency = options.adaptiveConcurrency ?? MANAGER_DEFAULTS.adaptiveConcurrency;
  if (typeof adaptiveConcurrency !== 'boolean') throw new TypeError(`adaptiveConcurrency must be a boolean, got ${String(adaptiveConcurrency)}`);
  const { sweep, ...poll } = { ...MANAGER_DEFAULTS.poll, ...options.poll };
  validateBackoffPolicy(poll, 'poll');
  if (typeof sweep !== 'boolean') throw new TypeError(`poll.sweep must be a boolean, got ${String(sweep)}`);
  const { defaultTimeoutMs } = options;
  if (defaultTimeoutMs !== undefined && !(defaultTimeoutMs > 0)) throw new RangeError(`defaultTimeoutMs must be > 0, got ${defaultTimeoutMs}`);
  return {
    backends,
    concurrency,
    adaptiveConcurrency,
    poll,
    sweep,
    defaultTimeoutMs,
    shutdown: resolveShutdown(options.shutdown),
    clock: options.clock ?? systemClock,
    random: options.random ?? Math.random,
    store: checkStore(options.store),
    workerId: checkWorkerId(options.workerId),
    leaseMs: checkLease(options.leaseMs),
    maxRetryAfterMs: checkMaxRetryAfter(options.maxRetryAfterMs),
    logger: checkLogger(options.logger),
    reconcile: resolveReconcile(options.reconcile),
  };
}

function checkStore(store: TaskStore | undefined): TaskStore {
  if (store === undefined) return new MemoryStore();
  for (const method of ['open', 'add', 'update', 'remove', 'listByOwner', 'listExpired', 'claim', 'renewLease', 'releaseLease', 'close'] as const) {
    if (typeof store[method] !== 'function') throw new TypeError(`store must implement TaskStore: ${method}() is missing`);
  }
  return store;
}

function checkWorkerId(workerId: string | undefined): string {
  if (workerId === undefined) return `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  if (typeof workerId !== 'string' || !/^[\w.:@-]{1,200}$/.test(workerId)) {
    throw new TypeError('workerId must be 1–200 characters of letters, digits and . _ : @ -');
  }
  return workerId;
}

function checkLease(leaseMs: number | undefined): number {
  const value = leaseMs ?? MANAGER_DEFAULTS.leaseMs;
  if (!Number.isFinite(value) || value < 300 || value > 2_147_483_647) throw new RangeError(`leaseMs must be a number from 300 to 2147483647, got ${value}`);
  return value;
}

function checkMaxRetryAfter(value: number | undefined): number {
  const ms = value ?? MANAGER_DEFAULTS.maxRetryAfterMs;
  if (typeof ms !== 'number' || !(ms >= 0) || ms > 2_147_483_647) throw new RangeError(`maxRetryAfterMs must be a number from 0 to 2147483647, got ${ms}`);
  return ms;
}

function resolveReconcile(value: TaskManagerOptions['reconcile']): Required<ReconcileOptions> | false {
  if (value === false) return false;
  if (value !== undefined && (typeof value !== 'object' || value === null)) throw new TypeError('reconcile must be false or an object');
  const resolved = { ...MANAGER_DEFAULTS.reconcile, ...value };
  for (const name of ['skewMs', 'settleMs'] as const) {
    const ms = resolved[name];
    if (typeof ms !== 'number' || !(ms >= 0) || ms > 2_147_483_647) throw new RangeError(`reconcile.${name} must be a number from 0 to 2147483647, got ${ms}`);
  }
  if (!Number.isInteger(resolved.maxPages) || resolved.maxPages < 1) throw new RangeError(`reconcile.maxPages must be an integer ≥ 1, got ${resolved.maxPages}`);
  if (resolved.duplicates !== 'track' && resolved.duplicates !== 'cancel') throw new TypeError(`reconcile.duplicates must be "track" or "cancel", got ${String(resolved.duplicates)}`);
  return resolved;
}

function checkLogger(logger: TaskguardLogger | undefined): TaskguardLogger | undefined {
  if (logger !== undefined && typeof logger?.warn !== 'function') throw new TypeError('logger must have a warn(...) method (pino, console, …)');
  return logger;
}

function resolveShutdown(value: TaskManagerOptions['shutdown']): Required<ShutdownOptions> | false {
  if (value === undefined || value === false) return false;
  const options = value === true ? {} : value;
  const graceMs = options.graceMs ?? MANAGER_DEFAULTS.graceMs;
  if (!Number.isFinite(graceMs) || graceMs < 0) throw new RangeError(`shutdown.graceMs must be a finite number ≥ 0, got ${graceMs}`);
  const signals = options.signals ?? MANAGER_DEFAULTS.signals;
  if (!Array.isArray(signals) || signals.some((s) => typeof s !== 'string' || !s.startsWith('SIG'))) {
    throw new TypeError('shutdown.signals must be an array of signal names such as "SIGTERM"');
  }
  return { signals, graceMs, exit: options.exit ?? true };
}
