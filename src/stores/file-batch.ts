/**
 * How a {@link FileStore} turns a batch of queued operations into journal lines: each operation is
 * decided against the committed records plus the batch's own earlier changes, in order. Pure: nothing
 * changes until the caller has written the lines and commits the result.
 * @module
 */
import { refKey, type TaskRef } from '../refs.js';
import type { JournalEntry } from './file-journal.js';
import type { StoredTask, StoredTaskPatch } from './types.js';

/** One queued call of the store. */
export type Op =
  | { readonly type: 'add'; readonly task: StoredTask }
  | { readonly type: 'update'; readonly ref: TaskRef; readonly patch: StoredTaskPatch }
  | { readonly type: 'remove'; readonly ref: TaskRef }
  | { readonly type: 'claim'; readonly ref: TaskRef; readonly from: string; readonly to: string }
  /** Checks the lock before the batch's lines are written (the lease heartbeat). */
  | { readonly type: 'verifyLock' }
  /** Writes nothing: resolves once every earlier operation has been written (reads, close). */
  | { readonly type: 'barrier' };

/** What the committed state looks like to a batch. */
export interface Committed {
  readonly tasks: ReadonlyMap<string, StoredTask>;
  /** Keys of records found at open and not tracked again since: a dead process's. */
  readonly inherited: ReadonlySet<string>;
  /** The worker that has the store open: the only live owner. */
  readonly workerId: string;
}

/** A batch, decided. */
export interface StagedBatch {
  /** Lines to append, in order. */
  readonly entries: readonly JournalEntry[];
  /** Records the batch changes: a task, or `undefined` for removed. */
  readonly changes: ReadonlyMap<string, StoredTask | undefined>;
  /** Keys this live worker has taken over (added, claimed or removed): no longer inherited. */
  readonly adopted: ReadonlySet<string>;
  /** What each operation resolves with, by index (a claim's win; `false` for the others). */
  readonly values: readonly boolean[];
  /** Whether the lock is to be checked before the lines are written. */
  readonly checkLock: boolean;
}

/** Whether a record's owner is gone: found at open and not taken over, or owned by a worker other than the live one. */
export function isExpired(committed: Committed, key: string, task: StoredTask, adopted: ReadonlySet<string> = new Set()): boolean {
  return (committed.inherited.has(key) && !adopted.has(key)) || task.owner !== committed.workerId;
}

/** Decides every operation of a batch, in order. An update or remove of a missing record writes nothing. */
export function stageBatch(ops: readonly Op[], committed: Committed): StagedBatch {
  const changes = new Map<string, StoredTask | undefined>();
  const adopted = new Set<string>();
  const entries: JournalEntry[] = [];
  const values: boolean[] = [];
  let checkLock = false;
  const lookup = (key: string): StoredTask | undefined => (changes.has(key) ? changes.get(key) : committed.tasks.get(key));
  for (const op of ops) {
    let value = false;
    if (op.type === 'add') {
      const key = refKey(op.task);
      changes.set(key, op.task);
      adopted.add(key);
      entries.push({ op: 'add', task: op.task });
    } else if (op.type === 'update' || op.type === 'remove' || op.type === 'claim') {
      const key = refKey(op.ref);
      const task = lookup(key);
      if (task && op.type === 'update') {
        changes.set(key, { ...task, ...op.patch });
        entries.push({ op: 'update', kind: op.ref.kind, id: op.ref.id, patch: op.patch });
      } else if (task && op.type === 'remove') {
        changes.set(key, undefined);
        adopted.add(key);
        entries.push({ op: 'remove', kind: op.ref.kind, id: op.ref.id });
      } else if (task && op.type === 'claim' && task.owner === op.from && isExpired(committed, key, task, adopted)) {
        changes.set(key, { ...task, owner: op.to });
        adopted.add(key);
        entries.push({ op: 'update', kind: op.ref.kind, id: op.ref.id, patch: { owner: op.to } });
        value = true;
      }
    } else if (op.type === 'verifyLock') {
      checkLock = true;
    }
    values.push(value);
  }
  return { entries, changes, adopted, values, checkLock };
}
