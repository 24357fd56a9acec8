import { ManagerClosedError } from '../errors/classes.js';
import type { ManagerState } from './health.js';
import type { ResolvedManagerOptions } from './options.js';
import type { ManagerParts } from './parts.js';
import { runShutdown } from './shutdown.js';
import { registerForSignals } from './signals.js';
import type { TaskManager } from './task-manager.js';
import type { ShutdownReport } from './types.js';

/**
 * A manager's lifecycle, open → shutting down → closed: the state its public methods check, the
 * lifetime that `close()` ends, the creates a shutdown waits for, and the signal handlers.
 * @module
 */

/** One manager's lifecycle; `shutdown()` and `close()` each run once, a second call gets the first's promise. */
export class Lifecycle {
  #state: ManagerState = 'open';
  readonly #lifetime = new AbortController();
  readonly #creating = new Set<Promise<unknown>>();
  #shutdown: Promise<ShutdownReport> | undefined;
  #closing: Promise<void> | undefined;
  /** Ends a shutdown's grace at once (a second signal with `exit: false`). */
  #endGrace: (() => void) | undefined;
  #unregisterSignals: (() => void) | undefined;

  get state(): ManagerState {
    return this.#state;
  }

  /** The manager's lifetime: aborted by `close()`. */
  get signal(): AbortSignal {
    return this.#lifetime.signal;
  }

  /** Whether `close()` has run. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** The error of a call the manager no longer takes: `cannot <action>: the manager is …`. */
  refusal(action: string): ManagerClosedError {
    return new ManagerClosedError(`cannot ${action}: the manager is ${this.#state === 'closed' ? 'closed' : 'shutting down'}`);
  }

  /** Holds a create in flight until the returned function runs: a shutdown lets its tasks be tracked first. */
  holdCreate(creating: Promise<unknown>): () => void {
    this.#creating.add(creating);
    return () => this.#creating.delete(creating);
  }

  /** Installs the process signal handlers of the `shutdown` option; `close()` removes them. */
  handleSignals(shutdown: Exclude<ResolvedManagerOptions['shutdown'], false>, manager: Pick<TaskManager, 'shutdown'>): void {
    this.#unregisterSignals = registerForSignals({ ...shutdown, shutdown: () => manager.shutdown(), cutShort: () => this.#endGrace?.() });
  }

  /** What `TaskManager.shutdown()` does (documented there). */
  shutdown(parts: Pick<ManagerParts, 'options' | 'tracker' | 'ops' | 'emit' | 'manager'>, requested: { readonly graceMs?: number }): Promise<ShutdownReport> {
    if (this.#shutdown) return this.#shutdown;
    const { options, tracker, ops, emit, manager } = parts;
    const graceMs = requested.graceMs ?? (options.shutdown ? options.shutdown.graceMs : 10_000);
    if (!Number.isFinite(graceMs) || graceMs < 0) return Promise.reject(new RangeError(`graceMs must be a finite number ≥ 0, got ${graceMs}`));
    this.#state = 'shuttingDown';
    const cutShort = new Promise<void>((resolve) => (this.#endGrace = resolve));
    this.#shutdown = runShutdown({
      clock: options.clock,
      graceMs,
      cutShort,
      creating: [...this.#creating],
      records: () => tracker.records(),
      cancel: (refs) => ops.bulkCancel(refs, options.concurrency, 'shutdown'),
      abandon: (record) => tracker.abandon(record, new ManagerClosedError(`shutdown grace of ${graceMs} ms ran out before the cancel of ${record.key} was confirmed`)),
    }).then(async (report) => {
      emit('shutdown', report);
      await manager.close();
      return report;
    });
    return this.#shutdown;
  }

  /** What `TaskManager.close()` does (documented there). */
  close(parts: Pick<ManagerParts, 'tracker' | 'registry' | 'fleet'>): Promise<void> {
    if (this.#closing) return this.#closing;
    const { tracker } = parts;
    this.#state = 'closed';
    this.#unregisterSignals?.();
    this.#unregisterSignals = undefined;
    for (const record of tracker.records()) {
      tracker.abandon(record, new ManagerClosedError(`the manager was closed while ${record.key} was tracked; it was not cancelled`));
    }
    this.#lifetime.abort(new ManagerClosedError('the manager was closed'));
    tracker.clear();
    this.#closing = this.#closeStore(parts);
    return this.#closing;
  }

  async #closeStore({ fleet, registry }: Pick<ManagerParts, 'registry' | 'fleet'>): Promise<void> {
    await fleet.leave();
    await registry.close();
  }
}
