import { ManagerClosedError, ValidationError } from '../errors/classes.js';
import { refKey, type TaskKind } from '../refs.js';
import type { StartedTask, TrackOptions } from './api-types.js';
import { deadlineOf } from './helpers.js';
import type { ManagerParts } from './parts.js';
import { createOnce, type CreateResult } from './start.js';

/**
 * `TaskManager.start()` around its create (start.ts): the checks before it, a shutdown made to wait
 * for it, then every task it made tracked at once, so that none runs unwatched.
 * @module
 */

/** What `TaskManager.start()` does (documented there). */
export async function startTask(
  parts: Pick<ManagerParts, 'context' | 'lifecycle' | 'ops' | 'manager'>,
  kind: TaskKind,
  body: unknown,
  options: TrackOptions,
): Promise<StartedTask<unknown>> {
  const { context, lifecycle, ops } = parts;
  if (lifecycle.state !== 'open') throw lifecycle.refusal(`start a ${kind} task`);
  const backend = ops.backend(kind);
  if (!backend.create) throw new ValidationError(`the backend of kind "${kind}" has no create(body, { signal })`);
  options.signal?.throwIfAborted();
  // The deadline counts from the call, and a task found by reconciliation gets the same one.
  const deadline = deadlineOf(options, context.options);
  // The caller's signal does not abort the create: the server may already have made the task, and
  // an aborted create would leave it running with nobody watching. It is tracked below, where the
  // signal (if it aborted meanwhile) cancels it at once.
  const creating = createOnce(context, kind, backend, body, deadline);
  const release = lifecycle.holdCreate(creating);
  let made: CreateResult;
  try {
    made = await creating;
  } finally {
    release();
  }
  const [first, ...duplicates] = made.tasks;
  // close() came while the answer was on its way: nothing may be tracked after close, and a task the
  // caller never hears of would run unwatched. The error names it, so the caller can act on it.
  if (lifecycle.closed) {
    const id = first!.id;
    throw new ManagerClosedError(`the manager was closed while a ${kind} task was being created: ${kind}:${id} exists but is not tracked (cancel it, or track it with another manager)`, { ref: { kind, id } });
  }
  const trackOptions: TrackOptions = deadline === undefined ? { signal: options.signal } : { deadline, signal: options.signal };
  const records = made.tasks.map((task) => ops.track({ kind, id: task.id }, trackOptions));
  if (made.intent) context.registry.remove(made.intent, refKey(made.intent));
  const record = records[0]!;
  record.handle.created = first!.created;
  record.handle.reconciled = made.reconciled;
  // A task created while shutdown began is tracked all the same and cancelled at once: never orphaned.
  if (lifecycle.state !== 'open') for (const each of records) context.tracker.requestCancel(each, 'shutdown').catch(() => {});
  else if (duplicates.length > 0 && context.options.reconcile && context.options.reconcile.duplicates === 'cancel') {
    void parts.manager.cancelMany(records.slice(1).map((each) => each.ref));
  }
  options.signal?.throwIfAborted();
  return record.handle as StartedTask<unknown>;
}
