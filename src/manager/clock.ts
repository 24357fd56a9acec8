/**
 * Where the manager reads time and arms its timer: the globals by default, or an injected fake (the
 * `clock` option of {@link TaskManagerOptions}), so that tests drive polling and deadlines.
 *
 * @example
 * ```ts
 * import FakeTimers from '@sinonjs/fake-timers';
 * import { AgentClient, TaskManager, type Clock } from 'taskguard';
 *
 * const fake = FakeTimers.createClock(Date.now());
 * const clock: Clock = {
 *   now: () => fake.now,
 *   setTimeout: (fn, ms) => fake.setTimeout(fn, ms),
 *   clearTimeout: (id) => fake.clearTimeout(id as FakeTimers.TimerId),
 * };
 * const manager = new TaskManager({ agent: new AgentClient(), clock });
 * manager.track({ kind: 'agent', id: '3f1c2a9e-8b7d-4c55-9e0f-2a1b3c4d5e6f' }, { timeoutMs: 60_000 });
 * await fake.tickAsync(60_000); // the deadline passes without a minute's wait
 * ```
 */
export interface Clock {
  /** The current time in milliseconds since the epoch, like `Date.now()`. */
  now(): number;
  /** Calls `callback` once, `ms` milliseconds from now; returns a handle for `clearTimeout`. */
  setTimeout(callback: () => void, ms: number): unknown;
  /** Disarms a timer that `setTimeout` armed. */
  clearTimeout(handle: unknown): void;
}

/**
 * The real clock. It looks the globals up at each call, so `@sinonjs/fake-timers` installed after the
 * manager was built still drives it.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
