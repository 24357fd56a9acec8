import type { Emit } from './emit.js';
import type { Fleet } from './fleet.js';
import type { Lifecycle } from './lifecycle.js';
import type { ResolvedManagerOptions } from './options.js';
import type { Registry } from './registry.js';
import type { StartContext } from './start.js';
import type { TaskManager } from './task-manager.js';
import type { TaskOps } from './task-ops.js';
import type { Tracker } from './tracker.js';

/**
 * The pieces of one manager that the modules behind its public methods share; each takes the few it
 * needs.
 * @module
 */

/** One manager's internals, wired once by its constructor. */
export interface ManagerParts {
  readonly options: ResolvedManagerOptions;
  readonly tracker: Tracker;
  readonly registry: Registry;
  /** What creates and reconciliations need (for `start()` and `recover()`). */
  readonly context: StartContext;
  readonly lifecycle: Lifecycle;
  readonly ops: TaskOps;
  readonly fleet: Fleet;
  readonly emit: Emit;
  /**
   * The manager itself: where it calls its own public methods (`cancelMany`, `close`, …), the modules
   * call them on it too, so that an override or a spy sees every call.
   */
  readonly manager: TaskManager;
}
