import pLimit from 'p-limit';
import type { TaskRef } from '../refs.js';
import type { StoredTask, TaskStore } from '../stores/types.js';

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
