/**
 * The one writer of a {@link FileStore} journal. Calls queue up; each batch of them is decided against
 * the records in memory (`file-batch.ts`), appended in one write, and only then applied to those
 * records, so that memory never holds a change the journal lacks. Writes are never interleaved, and
 * writes queued while one is on its way share the next.
 * @module
 */
import { isExpired, stageBatch, type Committed, type Op } from './file-batch.js';
import type { JournalAppender } from './file-appender.js';
import type { StoredTask } from './types.js';

interface Queued {
  readonly op: Op;
  readonly resolve: (value: boolean) => void;
  readonly reject: (error: unknown) => void;
}

/** The records of a journal and the queue of the writes to it. */
export class JournalWriter {
  readonly #journal: JournalAppender;
  readonly #verifyLock: () => Promise<void>;
  /** The records as written to the journal (a write that failed is not here). */
  readonly #tasks = new Map<string, StoredTask>();
  /** Records found in the journal at open and not tracked again since: a dead process's. */
  readonly #inherited = new Set<string>();
  #workerId = '';
  #queue: Queued[] = [];
  #draining = false;

  /** `verifyLock` rejects if the store no longer holds its lock. */
  constructor(journal: JournalAppender, verifyLock: () => Promise<void>) {
    this.#journal = journal;
    this.#verifyLock = verifyLock;
  }

  /** Takes the records the journal held when `workerId` opened it: every one of them is inherited. */
  load(tasks: ReadonlyMap<string, StoredTask>, workerId: string): void {
    for (const [key, task] of tasks) {
      this.#tasks.set(key, task);
      this.#inherited.add(key);
    }
    this.#workerId = workerId;
  }

  /** How many records there are. */
  get size(): number {
    return this.#tasks.size;
  }

  /** The records of `owner`. */
  listByOwner(owner: string): StoredTask[] {
    return [...this.#tasks.values()].filter((task) => task.owner === owner);
  }

  /** The records of processes that are gone: every record found at open and not tracked again, and any other owner's. */
  listExpired(self: string): StoredTask[] {
    const committed = this.#committed();
    return [...this.#tasks.entries()].filter(([key, task]) => isExpired(committed, key, task) && (task.owner !== self || this.#inherited.has(key))).map(([, task]) => task);
  }

  /**
   * Queues an op; resolves with its value (a claim's win) once its batch is written. Once writes have
   * stopped, only a barrier is still taken: it resolves `false`.
   */
  enqueue(op: Op): Promise<boolean> {
    return new Promise((resolve, reject) => {
      const broken = this.#journal.broken;
      if (broken && op.type !== 'barrier') throw broken;
      this.#queue.push({ op, resolve, reject });
      if (this.#draining) return;
      this.#draining = true;
      void this.#drain();
    });
  }

  /** Takes every queued op as a batch, appends their lines in one write, then the next batch. */
  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue;
        this.#queue = [];
        await this.#commit(batch).catch((error: unknown) => {
          for (const queued of batch) queued.reject(error); // a bug, not an I/O error: never leave a caller hanging
        });
        await this.#journal.compactIfDue(this.#tasks);
      }
    } finally {
      this.#draining = false;
    }
  }

  /** Writes one batch: decides every op against the committed records, appends their lines in one write, then commits. */
  async #commit(batch: readonly Queued[]): Promise<void> {
    const staged = stageBatch(
      batch.map((queued) => queued.op),
      this.#committed(),
    );
    try {
      if (this.#journal.broken) throw this.#journal.broken;
      // The lock first: a store that lost it must not write another line.
      if (staged.checkLock) await this.#checkLock();
      if (staged.entries.length > 0) await this.#journal.append(staged.entries);
    } catch (error) {
      for (const queued of batch) if (queued.op.type === 'barrier') queued.resolve(false);
      else queued.reject(error);
      return;
    }
    for (const [key, task] of staged.changes) {
      if (task) this.#tasks.set(key, task);
      else this.#tasks.delete(key);
    }
    for (const key of staged.adopted) this.#inherited.delete(key);
    batch.forEach((queued, index) => queued.resolve(staged.values[index] ?? false));
  }

  async #checkLock(): Promise<void> {
    try {
      await this.#verifyLock();
    } catch (error) {
      this.#journal.stop(error as Error);
      throw error;
    }
  }

  #committed(): Committed {
    return { tasks: this.#tasks, inherited: this.#inherited, workerId: this.#workerId };
  }
}
