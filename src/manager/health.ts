import type { Clock } from './clock.js';

/** The lifecycle of a manager: open, then shutting down (after `shutdown()`), then closed. */
export type ManagerState = 'open' | 'shuttingDown' | 'closed';

/** The store's opening: a `FileStore` takes its lock, a `RedisStore` connects. */
export type StoreState = 'opening' | 'ready' | 'failed';

/**
 * What {@link TaskManager.health} reports: enough for a liveness probe (`state` is not `closed`) and a
 * readiness probe (`ready`).
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { TaskManager } from 'taskguard';
 * declare const manager: TaskManager;
 *
 * createServer((req, res) => {
 *   const health = manager.health();
 *   const ok = req.url === '/readyz' ? health.ready : health.state !== 'closed';
 *   res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(health));
 * }).listen(8080);
 * ```
 */
export interface ManagerHealth {
  /** True while the manager is open and its store is open: it can take work. */
  readonly ready: boolean;
  /** Where the manager is in its lifecycle. */
  readonly state: ManagerState;
  /** Tasks tracked now. */
  readonly tracked: number;
  /** Whether the store opened. */
  readonly store: StoreState;
  /** When the last API request of the manager succeeded (ms since the epoch, on the manager's clock), or null. */
  readonly lastSuccessAt: number | null;
  /**
   * When the last API request of the manager failed (ms since the epoch), or null. Any failure counts:
   * an error status, a timeout, a lost connection; a request the manager aborted itself does not.
   */
  readonly lastErrorAt: number | null;
}

/** The outcomes of a manager's API requests, as the limiter that runs each of them sees them. */
export class RequestOutcomes {
  lastSuccessAt: number | null = null;
  lastErrorAt: number | null = null;
  readonly #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  succeeded(): void {
    this.lastSuccessAt = this.#clock.now();
  }

  failed(error: unknown): void {
    // The manager aborts a poll to send a deadline cancel, and every request when it closes: neither
    // says anything about the API.
    const name = typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : undefined;
    if (name !== 'AbortError' && name !== 'ManagerClosedError') this.lastErrorAt = this.#clock.now();
  }
}

/** Follows the opening of the store, so that `health()` can say synchronously where it stands. */
export function watchStore(ready: Promise<void>): () => StoreState {
  let state: StoreState = 'opening';
  ready.then(
    () => (state = 'ready'),
    () => (state = 'failed'),
  );
  return () => state;
}

/** The report, from the parts the manager holds. */
export function managerHealth(state: ManagerState, tracked: number, store: StoreState, requests: RequestOutcomes): ManagerHealth {
  const { lastSuccessAt, lastErrorAt } = requests;
  return { ready: state === 'open' && store === 'ready', state, tracked, store, lastSuccessAt, lastErrorAt };
}
