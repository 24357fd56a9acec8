/**
 * Pure backoff arithmetic: the one place that turns an attempt number, a policy and a server hint into
 * a delay. Used by the request core between retries and by the manager between polls.
 * @module
 */

/**
 * An exponential backoff policy: the `poll` option of {@link TaskManagerOptions} and the `retryBackoff`
 * option of {@link ClientOptions} (both take a partial one, over their defaults).
 *
 * @example
 * ```ts
 * import { AgentClient, TaskManager, type BackoffPolicy } from 'taskguard';
 *
 * // Polls 5 s apart at first, backing off to 2 min; each delay is 50–100% of its nominal value.
 * const poll: BackoffPolicy = { initialMs: 5_000, maxMs: 120_000, factor: 2, jitter: 0.5 };
 * const manager = new TaskManager({ agent: new AgentClient(), poll });
 * console.log(manager.stats().tracked); // 0
 * ```
 */
export interface BackoffPolicy {
  /** Delay before the first retry or poll, in milliseconds. */
  readonly initialMs: number;
  /** Cap of the delay, in milliseconds. */
  readonly maxMs: number;
  /** Growth per attempt (2 doubles the delay). */
  readonly factor: number;
  /**
   * Share of each delay drawn at random, 0–1: the delay falls in `[(1 - jitter) × d, d]`.
   * `1` is "full jitter", `0` none. Jitter spreads the requests of many tasks apart.
   */
  readonly jitter: number;
}

/**
 * The delay before attempt `attempt + 1`, where `attempt` counts from 0.
 * A server hint (`Retry-After`) is a floor: the delay is never shorter than `hintMs`.
 * @param random a source of numbers in [0, 1), injectable so that tests and replays are exact
 */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy,
  hintMs?: number,
  random: () => number = Math.random,
): number {
  const exponential = policy.initialMs * policy.factor ** Math.max(0, attempt);
  const capped = Math.min(policy.maxMs, Number.isFinite(exponential) ? exponential : policy.maxMs);
  const delay = capped * (1 - policy.jitter * random());
  return Math.max(Math.round(delay), hintMs ?? 0);
}

/** Checks a policy, throwing a `RangeError` that names the offending option (`name.field`). */
export function validateBackoffPolicy(policy: BackoffPolicy, name: string): void {
  const { initialMs, maxMs, factor, jitter } = policy;
  if (!Number.isFinite(initialMs) || initialMs < 0) throw new RangeError(`${name}.initialMs must be a finite number ≥ 0, got ${initialMs}`);
  if (!Number.isFinite(maxMs) || maxMs < initialMs || maxMs > 2_147_483_647) {
    throw new RangeError(`${name}.maxMs must be a number ≥ ${name}.initialMs and ≤ 2147483647, got ${maxMs}`);
  }
  if (!Number.isFinite(factor) || factor < 1) throw new RangeError(`${name}.factor must be a finite number ≥ 1, got ${factor}`);
  if (!Number.isFinite(jitter) || jitter < 0 || jitter > 1) throw new RangeError(`${name}.jitter must be between 0 and 1, got ${jitter}`);
}
