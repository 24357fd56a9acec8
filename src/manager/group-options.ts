import type { TrackOptions } from './api-types.js';
import type { GroupOptions } from './group-types.js';

/** Group options after checks, with the deadline made absolute and clipped to the parent's. */
export interface ResolvedGroupOptions {
  readonly deadline: number | undefined;
  readonly failFast: boolean;
  readonly maxConcurrent: number | undefined;
  /** The budget in task-milliseconds, the unit the meter counts in. */
  readonly budgetTaskMs: number | undefined;
  readonly signal: AbortSignal | undefined;
  readonly name: string | undefined;
}

/** Checks each option, naming the one that is wrong (`group.maxConcurrent`, …), before anything is armed. */
export function resolveGroupOptions(options: GroupOptions, now: number, parentDeadline: number | undefined): ResolvedGroupOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('group options must be an object');
  const { timeoutMs, deadline, failFast = false, maxConcurrent, budget, signal, name } = options;
  if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && timeoutMs >= 0)) throw new RangeError(`group.timeoutMs must be a number ≥ 0, got ${String(timeoutMs)}`);
  const absolute = deadline instanceof Date ? deadline.getTime() : deadline;
  if (absolute !== undefined && !(typeof absolute === 'number' && Number.isFinite(absolute))) {
    throw new RangeError('group.deadline must be a Date or a finite number of ms since the epoch');
  }
  if (typeof failFast !== 'boolean') throw new TypeError(`group.failFast must be a boolean, got ${String(failFast)}`);
  if (maxConcurrent !== undefined && !(Number.isInteger(maxConcurrent) && maxConcurrent >= 1)) {
    throw new RangeError(`group.maxConcurrent must be an integer ≥ 1, got ${String(maxConcurrent)}`);
  }
  if (budget !== undefined && (typeof budget !== 'object' || budget === null)) throw new TypeError('group.budget must be an object such as { taskMinutes: 60 }');
  const taskMinutes = budget?.taskMinutes;
  if (budget !== undefined && !(typeof taskMinutes === 'number' && taskMinutes > 0 && Number.isFinite(taskMinutes))) {
    throw new RangeError(`group.budget.taskMinutes must be a finite number > 0, got ${String(taskMinutes)}`);
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError('group.signal must be an AbortSignal');
  if (name !== undefined && typeof name !== 'string') throw new TypeError('group.name must be a string');
  const candidates = [absolute, timeoutMs === undefined ? undefined : now + timeoutMs, parentDeadline].filter((d): d is number => d !== undefined);
  return {
    deadline: candidates.length === 0 ? undefined : Math.min(...candidates),
    failFast,
    maxConcurrent,
    budgetTaskMs: taskMinutes === undefined ? undefined : taskMinutes * 60_000,
    signal,
    name,
  };
}

/**
 * A task's track options within a group: its deadline is the earlier of its own and the group's. The
 * manager's default timeout is the task's own deadline too (passing a deadline would turn it off).
 */
export function taskOptionsWithin(options: TrackOptions, groupDeadline: number | undefined, defaultTimeoutMs: number | undefined): TrackOptions {
  if (groupDeadline === undefined) return options;
  const own = options.deadline instanceof Date ? options.deadline.getTime() : options.deadline;
  const timeoutMs = options.timeoutMs ?? (own === undefined ? defaultTimeoutMs : undefined);
  return { ...options, timeoutMs, deadline: own === undefined ? groupDeadline : Math.min(own, groupDeadline) };
}
