import type { TaskRef } from '../refs.js';
import type { Clock } from './clock.js';
import type { TaskRecord } from './record.js';
import type { BulkCancelResult, ShutdownReport, TaskResult } from './types.js';

/** What one graceful shutdown needs from its manager. */
export interface ShutdownPlan {
  readonly clock: Clock;
  readonly graceMs: number;
  /** Resolves when the grace must end at once (a second signal with `exit: false`). */
  readonly cutShort: Promise<void>;
  /** Creates in flight: their tasks must be tracked (and so cancelled) before the snapshot. */
  readonly creating: readonly Promise<unknown>[];
  readonly records: () => TaskRecord[];
  readonly cancel: (refs: readonly TaskRef[]) => Promise<BulkCancelResult>;
  /** Ends tracking of a task whose cancel was not confirmed in time. */
  readonly abandon: (record: TaskRecord) => void;
}

/**
 * Cancels every tracked task through the bulk path and waits for the confirmations, all within one
 * grace period armed before any work starts. Whatever is unconfirmed when it ends is reported so.
 */
export async function runShutdown(plan: ShutdownPlan): Promise<ShutdownReport> {
  const { clock } = plan;
  const started = clock.now();
  let graceTimer: unknown;
  const graceOver = Promise.race([
    new Promise<void>((resolve) => {
      graceTimer = clock.setTimeout(resolve, plan.graceMs);
    }),
    plan.cutShort,
  ]);
  try {
    await Promise.race([Promise.allSettled(plan.creating), graceOver]);
    const records = plan.records();
    const cancelling = plan.cancel(records.map((record) => record.ref));
    await Promise.race([Promise.allSettled(records.map((record) => record.done)), graceOver]);
    const unconfirmed = records.filter((record) => !record.settled);
    for (const record of unconfirmed) plan.abandon(record);
    const cancel = await cancelling;
    const settled: TaskResult[] = await Promise.all(records.filter((record) => !unconfirmed.includes(record)).map((record) => record.done));
    return {
      settled,
      alreadyDone: cancel.results.filter((entry) => entry.status === 'fulfilled' && entry.value.result === 'alreadyDone').map((entry) => entry.ref),
      unconfirmed: unconfirmed.map((record) => record.ref),
      cancel,
      durationMs: clock.now() - started,
    };
  } finally {
    clock.clearTimeout(graceTimer);
  }
}
