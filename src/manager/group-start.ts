import type { LimitFunction } from 'p-limit';
import { onAbort } from '../util/abort-hub.js';

/** A `start()` waiting for its slots, until its create goes out or it is dropped. */
export interface QueuedStart<Group> {
  /** The group it was called on and that group's ancestors, innermost first. */
  readonly chain: readonly Group[];
  readonly reject: (error: unknown) => void;
  /** Removes the listener on the caller's signal. */
  off: (() => void) | undefined;
  /** Off the queue: created or dropped. */
  gone: boolean;
}

/** What one start needs from its groups. */
export interface StartPlan<Group, Task extends { readonly done: Promise<unknown> }> {
  readonly chain: readonly Group[];
  /** The slots to hold, innermost group's first: a parent's limit bounds its children's starts too. */
  readonly limits: readonly LimitFunction[];
  /** The caller's signal: aborting it while the start waits rejects it with the signal's reason. */
  readonly signal: AbortSignal | undefined;
  /** Puts it where a closing group can drop it. */
  readonly enqueue: (queued: QueuedStart<Group>) => void;
  /** Takes it off the queue for its create; false if it was dropped meanwhile. */
  readonly dequeue: (queued: QueuedStart<Group>) => boolean;
  /** Takes it off the queue and rejects it with `error`: it will never be created. */
  readonly drop: (queued: QueuedStart<Group>, error: unknown) => void;
  readonly create: () => Promise<Task>;
  /** The create answered: the task joins its groups. */
  readonly joined: (task: Task) => void;
  /** The create failed: no task joins. */
  readonly failed: () => void;
}

/**
 * Runs one start: waits for a slot in every limited group of its chain, creates the task, and holds
 * the slots until the task settles. A start dropped while it waited gives its slots back at once.
 */
export function runStart<Group, Task extends { readonly done: Promise<unknown> }>(plan: StartPlan<Group, Task>): Promise<Task> {
  return new Promise((resolve, reject) => {
    const queued: QueuedStart<Group> = { chain: plan.chain, reject, off: undefined, gone: false };
    plan.enqueue(queued);
    const { signal } = plan;
    if (signal) queued.off = onAbort(signal, () => plan.drop(queued, signal.reason));
    const run = async (): Promise<void> => {
      if (!plan.dequeue(queued)) return;
      let task: Task;
      try {
        task = await plan.create();
      } catch (error) {
        plan.failed();
        return reject(error);
      }
      plan.joined(task);
      resolve(task);
      await task.done;
    };
    void plan.limits.reduceRight<() => Promise<void>>((inner, limit) => () => limit(inner), run)();
  });
}
