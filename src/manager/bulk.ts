import pLimit from 'p-limit';
import { ValidationError } from '../errors/classes.js';
import { refKey, type TaskRef } from '../refs.js';
import { rethrowLater } from './helpers.js';
import type { BulkCancelEntry, BulkCancelResult, CancelValue } from './types.js';

/**
 * Cancels many refs with allSettled semantics: never rejects, one entry per ref in input order,
 * duplicates cancelled once (their entries share the outcome), at most `concurrency` at a time.
 */
export async function bulkCancel(
  refs: readonly TaskRef[],
  concurrency: number,
  cancelOne: (ref: TaskRef) => Promise<CancelValue>,
  onSettled?: (entry: BulkCancelEntry, index: number) => void,
): Promise<BulkCancelResult> {
  const limit = pLimit(concurrency);
  const byKey = new Map<string, Promise<CancelValue>>();
  const promises = refs.map((ref) => {
    const key = keyOf(ref);
    if (key === undefined) return Promise.reject(new ValidationError(`not a task ref: ${String(JSON.stringify(ref))}`));
    let promise = byKey.get(key);
    if (!promise) {
      promise = limit(() => cancelOne(ref));
      byKey.set(key, promise);
    }
    return promise;
  });
  if (onSettled) {
    promises.forEach((promise, index) => {
      const report = (entry: BulkCancelEntry): void => {
        // A throwing callback must not change the bulk's result: it is thrown again outside it.
        try {
          onSettled(entry, index);
        } catch (error) {
          rethrowLater(error);
        }
      };
      const ref = refs[index]!;
      promise.then(
        (value) => report({ ref, status: 'fulfilled', value }),
        (reason: unknown) => report({ ref, status: 'rejected', reason }),
      );
    });
  }
  const settled = await Promise.allSettled(promises);
  const counts = { cancelled: 0, alreadyDone: 0, failed: 0 };
  const results = settled.map((outcome, index): BulkCancelEntry => {
    const ref = refs[index]!;
    if (outcome.status === 'rejected') {
      counts.failed++;
      return { ref, status: 'rejected', reason: outcome.reason };
    }
    counts[outcome.value.result]++;
    return { ref, status: 'fulfilled', value: outcome.value };
  });
  return { results, counts };
}

function keyOf(ref: unknown): string | undefined {
  if (typeof ref !== 'object' || ref === null) return undefined;
  const { kind, id } = ref as Partial<TaskRef>;
  return typeof kind === 'string' && typeof id === 'string' ? refKey({ kind, id }) : undefined;
}
