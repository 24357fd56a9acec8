import pLimit from 'p-limit';
import { ManagerClosedError } from '../errors/classes.js';
import type { TaskRef } from '../refs.js';
import type { StoredTask, TaskStore } from '../stores/types.js';
import type { RecoverOptions, RecoveryReport } from './api-types.js';
import type { ReconciledEvent } from './events.js';
import { reconcileIntent } from './intents.js';
import type { ManagerParts } from './parts.js';

/**
 * `TaskManager.recover()`: the tasks of workers that are gone, claimed from the store, then tracked on
 * or cancelled here, and their creates that never answered looked up.
 * @module
 */

/** What claiming the orphans of a store needs from the manager. */
export interface ClaimPlan {
  readonly store: TaskStore;
  readonly workerId: string;
  /** Claims in flight at once. */
  readonly concurrency: number;
  /** Whether this manager has a backend for the kind (it cannot watch or cancel the others). */
  readonly canTrack: (kind: string) => boolean;
  /** Starts tracking a claimed task with its stored deadline. */
  readonly track: (ref: TaskRef, deadline: number | null) => void;
  readonly onError: (error: unknown, ref: TaskRef) => void;
}

/**
 * Claims every task whose owner is gone and starts tracking the ones this worker won. Claims are atomic
 * in the store, so they go in parallel (one round trip or disk sync each); a claim that fails does not
 * take the ones that won down with it: those are ours now, and only tracking them keeps them from being
 * orphaned a second time.
 */
export async function claimOrphans(plan: ClaimPlan): Promise<{ claimed: TaskRef[]; skipped: TaskRef[]; intents: StoredTask[] }> {
  const { store, workerId } = plan;
  const orphans = await store.listExpired(workerId);
  const limit = pLimit(plan.concurrency);
  const won = await Promise.allSettled(
    orphans.map((task) => limit(() => (plan.canTrack(task.kind) ? store.claim({ kind: task.kind, id: task.id }, task.owner, workerId) : false))),
  );
  const claimed: TaskRef[] = [];
  const skipped: TaskRef[] = [];
  // A dead worker's create that never answered: not a task to track, but one to look up.
  const intents: StoredTask[] = [];
  orphans.forEach((task, i) => {
    const ref: TaskRef = { kind: task.kind, id: task.id };
    const claim = won[i]!;
    if (claim.status === 'rejected') plan.onError(claim.reason, ref);
    if (claim.status === 'rejected' || !claim.value) return void skipped.push(ref);
    if (task.intent) return void intents.push(task);
    claimed.push(ref);
    plan.track(ref, task.deadline);
  });
  return { claimed, skipped, intents };
}

/** What `TaskManager.recover()` does (documented there). */
export async function recoverOrphans(parts: Pick<ManagerParts, 'context' | 'lifecycle' | 'ops' | 'emit' | 'manager'>, options: RecoverOptions): Promise<RecoveryReport> {
  const { policy } = options;
  if (policy !== 'cancel' && policy !== 'resume') throw new TypeError(`policy must be "cancel" or "resume", got ${String(policy)}`);
  const { context, lifecycle, ops, emit } = parts;
  if (lifecycle.state !== 'open') throw new ManagerClosedError('cannot recover: the manager is not open');
  await context.registry.ready;
  const { store, workerId, concurrency, backends } = context.options;
  // Claims and lookups take round trips: what they find once shutdown() or close() has begun stays in
  // the store, untracked, rather than tracked by a manager that takes no more work.
  const track = (ref: TaskRef, deadline: number | null): void => {
    if (lifecycle.state === 'open') ops.track(ref, deadline === null ? {} : { deadline });
  };
  const { claimed, skipped, intents } = await claimOrphans({
    store,
    workerId,
    concurrency,
    canTrack: (kind) => backends.has(kind),
    onError: (error, ref) => emit('error', { error, ref }),
    track,
  });
  const reconciled: ReconciledEvent[] = [];
  await Promise.all(
    intents.map(async (intent) => {
      const event = await reconcileIntent(context, ops.backend(intent.kind), intent, track).catch((error: unknown) => {
        // Unknown yet: the intent stays in the store, now ours; once this worker is gone (closed or
        // dead), the next recover() of the fleet tries it again.
        emit('error', { error, ref: { kind: intent.kind, id: intent.id } });
        return undefined;
      });
      if (!event) return;
      reconciled.push(event);
      claimed.push(...event.refs);
    }),
  );
  const cancel = policy === 'cancel' ? await parts.manager.cancelMany(claimed) : undefined;
  return { policy, claimed, skipped, cancel, reconciled };
}
