/**
 * Options of the simulator and their defaults, checked once at start so a typo fails loudly.
 * @module
 */
import { randomBytes, randomInt } from 'node:crypto';
import { checkRateLimit } from './rate-limit.js';

/** How a simulated agent run ends if nobody cancels it. */
export type SimulatedAgentOutcome = 'completed' | 'failed' | 'interrupted';

/** How a simulated cloud task ends if nobody stops it. */
export type SimulatedCloudOutcome = 'completed' | 'error' | 'timeout';

/** The outcomes an agent run can be given. */
export const AGENT_OUTCOMES: readonly SimulatedAgentOutcome[] = ['completed', 'failed', 'interrupted'];

/** The outcomes a cloud task can be given. */
export const CLOUD_OUTCOMES: readonly SimulatedCloudOutcome[] = ['completed', 'error', 'timeout'];

/** A token bucket over the authenticated API requests: `burst` requests at once, refilled at `requestsPerSecond`. */
export interface SimulatorRateLimit {
  /** Tokens added per second of the simulator clock; a number > 0 (fractions allowed). */
  readonly requestsPerSecond: number;
  /** Size of the bucket, full at the start: this many requests pass at once before the first 429; an integer ≥ 1. */
  readonly burst: number;
}

/**
 * Misbehaviour of the server. Every field is optional; `Simulator.setFaults` merges what it is given
 * into the current faults (an absent or `undefined` field keeps its value). Rates are probabilities
 * from 0 to 1, drawn once per authenticated API request; when they add up to more than 1 the earlier
 * kinds (reset, hang, 429, 502, 500, lost answer) take precedence.
 */
export interface SimulatorFaults {
  /** Delay before an authenticated API request is answered (or faulted), in milliseconds. @default 0 */
  readonly latencyMs?: number | undefined;
  /** Share of requests answered `500 {"error":"Internal server error"}`. @default 0 */
  readonly errorRate?: number | undefined;
  /** Share of requests answered `502` with an HTML page (`content-type: text/html`), as a proxy would. @default 0 */
  readonly htmlErrorRate?: number | undefined;
  /** Share of requests answered `429 {"error":"Too many requests"}` with `Retry-After`. @default 0 */
  readonly rate429?: number | undefined;
  /** The `Retry-After` of every 429 (random or `maxConcurrent`), in seconds; a fraction such as `0.2` shortens tests (real servers send whole seconds). @default 1 */
  readonly retryAfterSeconds?: number | undefined;
  /**
   * Most API requests in flight at once: a request that arrives while this many are open is answered
   * `429` with `Retry-After` at once, without the latency. A stream stops counting once it has started. @default Infinity (no limit)
   */
  readonly maxConcurrent?: number | undefined;
  /** Share of requests whose connection is destroyed without an answer (the client sees a reset). @default 0 */
  readonly resetRate?: number | undefined;
  /** Share of requests never answered until the simulator closes (the client must time out). @default 0 */
  readonly hangRate?: number | undefined;
  /**
   * Share of requests that are applied (a create creates, a cancel cancels) and whose connection is then
   * destroyed before the answer is written: the client sees a reset and cannot know the outcome. @default 0
   */
  readonly lostAnswerRate?: number | undefined;
  /**
   * A token bucket over the authenticated API requests, on the simulator clock: a request that finds it
   * empty is answered `429 {"error":"Too many requests"}` at once, with `Retry-After` the whole seconds
   * until the next token (at least 1). Every `setFaults` that gives it starts a full bucket; `null` turns
   * it off. @default null (no limit)
   */
  readonly rateLimit?: SimulatorRateLimit | null | undefined;
  /**
   * Destroys a stream's connection right after its N-th event that carries news: every event of the
   * agent log stream, the `log` events of the cloud stream. An integer ≥ 1. @default Infinity (never)
   */
  readonly streamDropAfterEvents?: number | undefined;
}

/** {@link SimulatorFaults} with every default filled in; `rateLimit` is `null` when off. */
export type ResolvedSimulatorFaults = { readonly [K in Exclude<keyof SimulatorFaults, 'rateLimit'>]-?: number } & {
  /** The token bucket in force, `null` when there is none. */
  readonly rateLimit: SimulatorRateLimit | null;
};

/**
 * Options of `createSimulator`. Every field is optional.
 *
 * @example
 * ```ts
 * import { createSimulator, type SimulatorOptions } from 'taskguard/simulator';
 *
 * const options: SimulatorOptions = {
 *   seed: 42, // the same IDs and faults on every run
 *   defaultDurationMs: 500, // runs and tasks end after half a second
 *   defaultAgentOutcome: 'failed',
 *   faults: { latencyMs: 20, rate429: 0.05, retryAfterSeconds: 0.2 },
 * };
 * const sim = await createSimulator(options);
 * await sim.close();
 * ```
 */
export interface SimulatorOptions {
  /** TCP port on 127.0.0.1; 0 picks a free one. @default 0 */
  readonly port?: number | undefined;
  /** Bearer key the Agent API accepts. @default `sk-sim-<random hex>` */
  readonly agentKey?: string | undefined;
  /** Bearer key the Cloud API accepts. @default `bb_sim_<random hex>` */
  readonly cloudKey?: string | undefined;
  /** More Agent API keys, each a user of its own: its runs answer 403 to every other key. @default [] */
  readonly extraAgentKeys?: readonly string[] | undefined;
  /** More Cloud API keys, each a user of its own: its tasks answer 404 to every other key. @default [] */
  readonly extraCloudKeys?: readonly string[] | undefined;
  /** Seed of every random decision (faults, IDs). Read it back from `Simulator.seed` to replay a run. @default random */
  readonly seed?: number | undefined;
  /** The clock task statuses are computed from, in epoch milliseconds. Latency still uses real timers. @default Date.now */
  readonly now?: (() => number) | undefined;
  /** How long a new agent run stays `queued` and a new cloud task `pending`, in milliseconds. @default 50 */
  readonly queuedMs?: number | undefined;
  /** The last part of a cloud task's duration spent `saving`, in milliseconds. @default 100 */
  readonly savingMs?: number | undefined;
  /** How long a run or task takes from creation to its outcome, in milliseconds; `Infinity` never ends. @default 2000 */
  readonly defaultDurationMs?: number | undefined;
  /** How agent runs end unless told otherwise. @default 'completed' */
  readonly defaultAgentOutcome?: SimulatedAgentOutcome | undefined;
  /** How cloud tasks end unless told otherwise. @default 'completed' */
  readonly defaultCloudOutcome?: SimulatedCloudOutcome | undefined;
  /** Faults from the start; see {@link SimulatorFaults}. @default no faults */
  readonly faults?: SimulatorFaults | undefined;
  /** Largest request body accepted; a larger one is answered 413, in bytes. @default 1048576 (1 MiB) */
  readonly maxBodyBytes?: number | undefined;
}

/** The options with every default filled in. */
export interface SimulatorConfig {
  readonly port: number;
  readonly agentKey: string;
  readonly cloudKey: string;
  readonly extraAgentKeys: readonly string[];
  readonly extraCloudKeys: readonly string[];
  readonly seed: number;
  readonly now: () => number;
  readonly queuedMs: number;
  readonly savingMs: number;
  readonly defaultDurationMs: number;
  readonly defaultAgentOutcome: SimulatedAgentOutcome;
  readonly defaultCloudOutcome: SimulatedCloudOutcome;
  readonly maxBodyBytes: number;
}

/** Faults when none are set. */
export const NO_FAULTS: ResolvedSimulatorFaults = {
  latencyMs: 0,
  errorRate: 0,
  htmlErrorRate: 0,
  rate429: 0,
  retryAfterSeconds: 1,
  maxConcurrent: Number.POSITIVE_INFINITY,
  resetRate: 0,
  hangRate: 0,
  lostAnswerRate: 0,
  rateLimit: null,
  streamDropAfterEvents: Number.POSITIVE_INFINITY,
};

/** Fills in the defaults and checks every option. */
export function resolveOptions(options: SimulatorOptions): SimulatorConfig {
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port must be an integer from 0 to 65535, got ${String(port)}`);
  const seed = options.seed ?? randomInt(0, 0x1_0000_0000);
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${String(seed)}`);
  if (options.now !== undefined && typeof options.now !== 'function') throw new TypeError('now must be a function returning epoch milliseconds');
  return {
    port,
    agentKey: checkKey(options.agentKey ?? `sk-sim-${randomBytes(12).toString('hex')}`, 'agentKey'),
    cloudKey: checkKey(options.cloudKey ?? `bb_sim_${randomBytes(12).toString('hex')}`, 'cloudKey'),
    extraAgentKeys: (options.extraAgentKeys ?? []).map((key, i) => checkKey(key, `extraAgentKeys[${i}]`)),
    extraCloudKeys: (options.extraCloudKeys ?? []).map((key, i) => checkKey(key, `extraCloudKeys[${i}]`)),
    seed,
    now: options.now ?? Date.now,
    queuedMs: checkDuration(options.queuedMs ?? 50, 'queuedMs'),
    savingMs: checkDuration(options.savingMs ?? 100, 'savingMs'),
    defaultDurationMs: checkDuration(options.defaultDurationMs ?? 2000, 'defaultDurationMs'),
    defaultAgentOutcome: checkOutcome(options.defaultAgentOutcome ?? 'completed', AGENT_OUTCOMES, 'defaultAgentOutcome'),
    defaultCloudOutcome: checkOutcome(options.defaultCloudOutcome ?? 'completed', CLOUD_OUTCOMES, 'defaultCloudOutcome'),
    maxBodyBytes: checkPositiveInteger(options.maxBodyBytes ?? 1_048_576, 'maxBodyBytes'),
  };
}

type NumericFault = Exclude<keyof ResolvedSimulatorFaults, 'rateLimit'>;

const NUMERIC_FAULTS = Object.keys(NO_FAULTS).filter((key): key is NumericFault => key !== 'rateLimit');

/** Merges `patch` into `current`, checking every given field. */
export function mergeFaults(current: ResolvedSimulatorFaults, patch: SimulatorFaults): ResolvedSimulatorFaults {
  const merged: { -readonly [K in keyof ResolvedSimulatorFaults]: ResolvedSimulatorFaults[K] } = { ...current };
  for (const key of NUMERIC_FAULTS) {
    const value = patch[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || Number.isNaN(value)) throw new TypeError(`faults.${key} must be a number, got ${String(value)}`);
    merged[key] = value;
  }
  if (patch.rateLimit !== undefined) merged.rateLimit = checkRateLimit(patch.rateLimit);
  for (const key of ['errorRate', 'htmlErrorRate', 'rate429', 'resetRate', 'hangRate', 'lostAnswerRate'] as const) {
    if (merged[key] < 0 || merged[key] > 1) throw new RangeError(`faults.${key} must be from 0 to 1, got ${merged[key]}`);
  }
  if (merged.latencyMs < 0 || !Number.isFinite(merged.latencyMs)) throw new RangeError(`faults.latencyMs must be a finite number ≥ 0, got ${merged.latencyMs}`);
  if (!Number.isFinite(merged.retryAfterSeconds) || merged.retryAfterSeconds < 0) {
    throw new RangeError(`faults.retryAfterSeconds must be a finite number ≥ 0, got ${merged.retryAfterSeconds}`);
  }
  if (merged.maxConcurrent < 1) throw new RangeError(`faults.maxConcurrent must be ≥ 1, got ${merged.maxConcurrent}`);
  const dropAfter = merged.streamDropAfterEvents;
  if (dropAfter !== Number.POSITIVE_INFINITY && !(Number.isInteger(dropAfter) && dropAfter >= 1)) {
    throw new RangeError(`faults.streamDropAfterEvents must be an integer ≥ 1 or Infinity, got ${dropAfter}`);
  }
  return merged;
}

/** A duration in milliseconds: a number ≥ 0, `Infinity` allowed (never ends). */
export function checkDuration(value: unknown, name: string): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) throw new RangeError(`${name} must be a number ≥ 0 (ms), got ${String(value)}`);
  return value;
}

/** One of `allowed`. */
export function checkOutcome<T extends string>(value: unknown, allowed: readonly T[], name: string): T {
  if (!allowed.includes(value as T)) throw new RangeError(`${name} must be one of ${allowed.join(', ')}, got ${String(value)}`);
  return value as T;
}

function checkPositiveInteger(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${String(value)}`);
  return value;
}

function checkKey(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '' || /\s/.test(value)) throw new TypeError(`${name} must be a non-empty string without whitespace`);
  return value;
}
