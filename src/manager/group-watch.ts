import { onAbort } from '../util/abort-hub.js';
import { Alarm } from './alarm.js';
import type { Clock } from './clock.js';

/** What a group does when something it watches fires. */
export interface WatchHooks {
  /** The deadline passed (`timed_out`) or the signal aborted (`cancelled`). */
  close(reason: 'timed_out' | 'cancelled'): void;
  /** The budget may have been reached: the group checks, and closes or re-arms. */
  budget(): void;
}

/**
 * What a group watches while it has work: its deadline, the moment its budget would be reached, its
 * signal. One timer each at most, on the manager's clock; `disarm()` leaves nothing behind.
 */
export class GroupWatch {
  readonly #deadline: Alarm;
  readonly #budget: Alarm;
  readonly #hooks: WatchHooks;
  #offSignal: (() => void) | undefined;

  constructor(clock: Clock, hooks: WatchHooks) {
    this.#hooks = hooks;
    // One clock turn late: the tasks' own deadlines are the group's, and the manager's cancels for
    // that instant must go first so that they end `timed_out`; the group's bulk cancel then joins them.
    this.#deadline = new Alarm(clock, () => void clock.setTimeout(() => hooks.close('timed_out'), 0));
    this.#budget = new Alarm(clock, () => hooks.budget());
  }

  /** Arms (or moves) what is given: `undefined` deadline and an `Infinity` budget moment arm nothing. */
  arm(deadline: number | undefined, budgetAt: number, signal: AbortSignal | undefined): void {
    if (deadline !== undefined) this.#deadline.set(deadline);
    this.#budget.set(budgetAt);
    if (signal) this.#offSignal ??= onAbort(signal, () => this.#hooks.close('cancelled'));
  }

  disarm(): void {
    this.#deadline.clear();
    this.#budget.clear();
    this.#offSignal?.();
    this.#offSignal = undefined;
  }
}
