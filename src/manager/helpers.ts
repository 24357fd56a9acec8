import type { AgentClient } from '../clients/agent.js';
import type { CloudClient } from '../clients/cloud.js';
import type { TaskRef } from '../refs.js';
import { MAX_ID_LENGTH, pathId } from '../clients/validate.js';
import { ValidationError } from '../errors/classes.js';
import type { TrackOptions } from './api-types.js';
import { agentBackend, cloudBackend } from './backends.js';
import type { ResolvedManagerOptions, TaskManagerOptions } from './options.js';
import { TERMINAL_STATES, type CancelValue, type NormalizedStatus, type TaskBackend } from './types.js';
export { raceAbort } from '../util/abort-hub.js';

/**
 * Small pieces of `TaskManager` that need none of its state.
 * @module
 */

/** A microtask, not nextTick: it must land before a signal shutdown's promise chain reaches process.exit. */
export function rethrowLater(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}

/** The backends of the clients given as `agent` and `cloud`. */
export function builtInBackends(options: TaskManagerOptions): Map<string, TaskBackend> {
  const backends = new Map<string, TaskBackend>();
  if (options.agent) backends.set('agent', agentBackend(options.agent as AgentClient));
  if (options.cloud) backends.set('cloud', cloudBackend(options.cloud as CloudClient));
  return backends;
}

/** The deadline of a track call: the earlier of `deadline` and now + `timeoutMs` (or the manager's default). */
export function deadlineOf(options: TrackOptions, resolved: ResolvedManagerOptions): number | undefined {
  const now = resolved.clock.now();
  const { timeoutMs, deadline } = options;
  if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && timeoutMs >= 0)) throw new RangeError(`timeoutMs must be a number ≥ 0, got ${timeoutMs}`);
  const absolute = deadline instanceof Date ? deadline.getTime() : deadline;
  if (absolute !== undefined && !Number.isFinite(absolute)) throw new RangeError(`deadline must be a Date or a finite number of ms since the epoch`);
  const relative = timeoutMs ?? (absolute === undefined ? resolved.defaultTimeoutMs : undefined);
  const candidates = [absolute, relative === undefined ? undefined : now + relative].filter((d): d is number => d !== undefined);
  return candidates.length === 0 ? undefined : Math.min(...candidates);
}

/**
 * Checks a ref's ID before it is tracked or cancelled. The two APIs put IDs in URL paths, so theirs
 * follow the clients' path rules; a custom backend's IDs need not be path segments (a build number
 * `1234/2`, a queue name `jobs.`), so they are only held to being a usable, bounded string.
 */
export function checkRefId(ref: TaskRef): void {
  if (ref.kind === 'agent' || ref.kind === 'cloud') return void pathId(ref.id, `${ref.kind} id`);
  const { id } = ref;
  if (typeof id !== 'string') throw new ValidationError(`${ref.kind} id must be a string, got ${typeof id}`);
  if (id.trim() === '') throw new ValidationError(`${ref.kind} id must not be empty or blank`);
  if (id.length > MAX_ID_LENGTH) throw new ValidationError(`${ref.kind} id is ${id.length} characters long; the limit is ${MAX_ID_LENGTH}`);
  if (!id.isWellFormed() || /[\0-\x1f\x7f]/.test(id)) throw new ValidationError(`${ref.kind} id contains a control character or a lone surrogate`);
}

/** `kind:id` of something that may not even be a ref, for error messages. */
export function describeRef(ref: unknown): string {
  return typeof ref === 'object' && ref !== null ? `${String((ref as TaskRef).kind)}:${String((ref as TaskRef).id)}` : String(ref);
}

/** What a cancel answered with `status` amounts to: `cancelled`, or `alreadyDone` for a task that ended on its own. */
export function cancelValueOf(status: NormalizedStatus): CancelValue {
  const finishedOnItsOwn = TERMINAL_STATES.has(status.state) && status.state !== 'cancelled';
  return { result: finishedOnItsOwn ? 'alreadyDone' : 'cancelled', status };
}
