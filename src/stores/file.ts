import { mkdir, open, truncate, type FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { TaskRef } from '../refs.js';
import { isExpired, stageBatch, type Committed, type Op } from './file-batch.js';
import { readIfExists, replaceFile, syncDirectory, writeAll } from './file-io.js';
import { encodeEntry, replayJournal } from './file-journal.js';
import { checkPatch, checkRef, checkTask, text } from './records.js';
import { acquireLock, releaseLock, verifyLock, type LockInfo } from './file-lock.js';
import type { StoredTask, StoredTaskPatch, TaskStore } from './types.js';

/** Options of {@link FileStore}. */
export interface FileStoreOptions {
  /**
   * The journal file. Its directory is created if missing; the store also uses `<path>.lock` (the
   * lock) and `<path>.tmp` (compaction) next to it. A relative path is resolved against the working
   * directory when the store is constructed. Put it on a local disk: the lock relies on the pid of its
   * owner, which only this host can check.
   */
  readonly path: string;
  /**
   * When an append is made durable.
   *
   * - `'always'` (default): every write is followed by `fdatasync` before its promise resolves. A task
   *   the store has acknowledged survives a crash of the process and of the machine; the cost is one
   *   disk sync per write (writes queued while a sync is in flight share the next one, so throughput
   *   holds up under load, but each write waits for the disk). This is the safe choice: an `add` lost
   *   in a crash is a remote task nobody will ever stop.
   * - `'never'`: appends go to the operating system and it decides when they reach the disk. A killed
   *   process loses nothing (the kernel has the data); a power cut or kernel crash may lose the last
   *   seconds of writes (tasks tracked then are orphaned; tasks settled then are recovered again,
   *   which costs a cancel that finds them already done). Much faster on slow disks.
   *
   * Compaction always syncs its new file before it replaces the journal, whatever this says.
   * @default 'always'
   */
  readonly fsync?: 'always' | 'never';
}

/** Compact when the journal has more lines than this… */
const COMPACT_MIN_LINES = 1_000;
/** …and more than this many times the live records. */
const COMPACT_RATIO = 4;

interface Queued {
  readonly op: Op;
  readonly resolve: (value: boolean) => void;
  readonly reject: (error: unknown) => void;
}

type State = 'new' | 'opening' | 'open' | 'closing' | 'closed';

/**
 * A durable registry for ONE worker process at a time: an append-only journal of JSON lines on local
 * disk, so that a worker killed without warning (SIGKILL, OOM, a power cut) leaves a record of every
 * remote task it was tracking, and the next process to open the journal can `recover()` them (see the
 * example below).
 *
 * - **Journal**: one line per change, `{"op":"add","task":{…}}`, `{"op":"update","kind","id","patch":{…}}`
 *   or `{"op":"remove","kind","id"}`, appended in order through one file handle (writes are queued,
 *   never interleaved). The current set is kept in memory; reads never touch the disk.
 * - **Durability**: see {@link FileStoreOptions.fsync}.
 * - **Lock**: `open()` creates `<path>.lock` exclusively, holding `{ pid, workerId, hostname }`. While
 *   its process lives, a second `open()` of the journal (from any process) rejects naming that pid. A
 *   lock whose process is dead is stale: the previous owner crashed, and the lock is taken over.
 * - **Recovery**: every record found in the journal at `open()` belongs to a process that is gone (the
 *   lock proves it), whatever its owner's name, even this worker's own `workerId` reused by a new
 *   process: `listExpired()` returns them until they are claimed or tracked again. So does any record
 *   owned by another `workerId`.
 * - **Torn writes**: a last line cut short by a crash is ignored and truncated away on `open()`. A bad
 *   line anywhere else is corruption: `open()` rejects, naming the line, and drops nothing.
 * - **Compaction**: once the journal has more than 1000 lines and more than 4× the live records (and
 *   on `open()` if that already holds), the live records are written to `<path>.tmp`, synced, and
 *   renamed over the journal, atomically.
 *
 * After `close()` every method rejects (a second `close()` resolves); to reopen the journal, create a
 * new `FileStore`.
 *
 * @example
 * ```ts
 * import { AgentClient, FileStore, TaskManager } from 'taskguard';
 *
 * const store = new FileStore({ path: '/var/lib/app/tasks.jsonl' });
 * const manager = new TaskManager({ agent: new AgentClient(), store });
 * const report = await manager.recover({ policy: 'cancel' }); // stop whatever the previous process left running
 * console.log(`${report.claimed.length} orphaned tasks cancelled`);
 * ```
 */
export class FileStore implements TaskStore {
  /** The journal file, resolved. */
  readonly path: string;
  /** The durability policy. */
  readonly fsync: 'always' | 'never';
  readonly #lockPath: string;
  readonly #tmpPath: string;
  #state: State = 'new';
  #workerId = '';
  #lock: LockInfo | undefined;
  #handle: FileHandle | undefined;
  /** The records as written to the journal (a write that failed is not here). */
  readonly #tasks = new Map<string, StoredTask>();
  /** Records found in the journal at open and not tracked again since: a dead process's. */
  readonly #inherited = new Set<string>();
  #bytes = 0;
  #lines = 0;
  #tornBytes = 0;
  #compactions = 0;
  /** No compaction before the journal has this many lines (raised after a compaction that failed). */
  #compactFloor = COMPACT_MIN_LINES;
  /** Set once the journal can no longer be trusted to match memory: every later write rejects with it. */
  #broken: Error | undefined;
  #queue: Queued[] = [];
  #draining = false;
  #opening: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  /**
   * Checks the options (a `TypeError` names a wrong one) and resolves `path`; nothing touches the disk
   * until `open()`, which the manager calls.
   */
  constructor(options: FileStoreOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('FileStore options must be an object: { path, fsync? }');
    const { path, fsync = 'always' } = options;
    if (typeof path !== 'string' || path === '' || path.includes('\0')) throw new TypeError(`FileStore: path must be a non-empty file path, got ${JSON.stringify(path)}`);
    if (fsync !== 'always' && fsync !== 'never') throw new TypeError(`FileStore: fsync must be "always" or "never", got ${JSON.stringify(fsync)}`);
    this.path = resolve(path);
    this.fsync = fsync;
    this.#lockPath = `${this.path}.lock`;
    this.#tmpPath = `${this.path}.tmp`;
  }

  /** Takes the lock, replays the journal (dropping a torn last line) and opens it for appending. */
  open(workerId: string): Promise<void> {
    if (typeof workerId !== 'string' || workerId === '') return Promise.reject(new TypeError('FileStore.open: workerId must be a non-empty string'));
    if (this.#state !== 'new') {
      const why = this.#state === 'opening' || this.#state === 'open' ? `is already open (workerId "${this.#workerId}"); open() is called once` : 'is closed';
      return Promise.reject(new Error(`FileStore ${this.path} ${why}`));
    }
    this.#state = 'opening';
    this.#workerId = workerId;
    this.#opening = this.#open().then(
      () => {
        if (this.#state === 'opening') this.#state = 'open';
      },
      (error: unknown) => {
        if (this.#state === 'opening') this.#state = 'new';
        throw error;
      },
    );
    return this.#opening;
  }

  async add(task: StoredTask): Promise<void> {
    await this.#enqueue({ type: 'add', task: checkTask(task, 'task') });
  }

  async update(ref: TaskRef, patch: StoredTaskPatch): Promise<void> {
    await this.#enqueue({ type: 'update', ref: checkRef(ref, 'ref'), patch: checkPatch(patch, 'patch') });
  }

  async remove(ref: TaskRef): Promise<void> {
    await this.#enqueue({ type: 'remove', ref: checkRef(ref, 'ref') });
  }

  /** The records of `owner`, after every write made before this call. */
  async listByOwner(owner: string): Promise<StoredTask[]> {
    text(owner, 'owner');
    await this.#enqueue({ type: 'barrier' });
    return [...this.#tasks.values()].filter((task) => task.owner === owner);
  }

  /** The records of processes that are gone: every record found at open and not tracked again, and any other owner's. */
  async listExpired(self: string): Promise<StoredTask[]> {
    text(self, 'self');
    await this.#enqueue({ type: 'barrier' });
    const committed = this.#committed();
    return [...this.#tasks.entries()].filter(([key, task]) => isExpired(committed, key, task) && (task.owner !== self || this.#inherited.has(key))).map(([, task]) => task);
  }

  /** Moves a record to `to` if it still belongs to `from` and is expired; appends the change. */
  claim(ref: TaskRef, from: string, to: string): Promise<boolean> {
    return this.#enqueue({ type: 'claim', ref: checkRef(ref, 'ref'), from: text(from, 'from'), to: text(to, 'to') });
  }

  /** The lock is the lease: this checks that the lock is still this store's (and recreates it if it was deleted). */
  async renewLease(): Promise<void> {
    await this.#enqueue({ type: 'verifyLock' });
  }

  /** Nothing to do before `close()`, which removes the lock. */
  async releaseLease(): Promise<void> {
    this.#checkOpen();
  }

  /** Writes what is queued, closes the journal and removes the lock. A second call resolves. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /**
   * Diagnostics: live `records`, `lines` and `bytes` in the journal, `compactions` done, and `tornBytes`
   * dropped at open.
   */
  stats(): { readonly records: number; readonly lines: number; readonly bytes: number; readonly compactions: number; readonly tornBytes: number } {
    return { records: this.#tasks.size, lines: this.#lines, bytes: this.#bytes, compactions: this.#compactions, tornBytes: this.#tornBytes };
  }

  async #open(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const lock = await acquireLock(this.#lockPath, this.path, this.#workerId);
    try {
      const buffer = await readIfExists(this.path);
      const replay = replayJournal(buffer ?? new Uint8Array(0), this.path);
      if (replay.tornBytes > 0) await truncate(this.path, replay.validBytes);
      for (const [key, task] of replay.tasks) {
        this.#tasks.set(key, task);
        this.#inherited.add(key);
      }
      this.#bytes = replay.validBytes;
      this.#lines = replay.lines;
      this.#tornBytes = replay.tornBytes;
      if (this.#worthCompacting()) {
        await this.#compact().catch(() => {
          this.#compactFloor = this.#lines * 2; // the journal is intact: open it as it is
        });
      }
      if (!this.#handle) {
        this.#handle = await open(this.path, 'a');
        if (buffer === undefined && this.fsync === 'always') await syncDirectory(dirname(this.path));
      }
      this.#lock = lock;
    } catch (error) {
      this.#tasks.clear();
      this.#inherited.clear();
      await this.#handle?.close().catch(() => {});
      this.#handle = undefined;
      await releaseLock(this.#lockPath, lock).catch(() => {});
      throw error;
    }
  }

  async #close(): Promise<void> {
    if (this.#state === 'opening') await this.#opening?.catch(() => {});
    const wasOpen = this.#state === 'open';
    this.#state = 'closing';
    try {
      if (wasOpen) await new Promise<boolean>((resolve, reject) => this.#push({ op: { type: 'barrier' }, resolve, reject }));
      await this.#handle?.close();
    } finally {
      this.#handle = undefined;
      this.#state = 'closed';
      if (this.#lock) await releaseLock(this.#lockPath, this.#lock);
      this.#lock = undefined;
    }
  }

  #checkOpen(): void {
    if (this.#state === 'open') return;
    if (this.#state === 'closing' || this.#state === 'closed') throw new Error(`FileStore ${this.path} is closed: create a new FileStore to open the journal again`);
    throw new Error(`FileStore ${this.path} is not open: a TaskManager opens its store (or call open(workerId) first)`);
  }

  #enqueue(op: Op): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.#checkOpen();
      if (this.#broken && op.type !== 'barrier') throw this.#broken;
      this.#push({ op, resolve, reject });
    });
  }

  #push(queued: Queued): void {
    this.#queue.push(queued);
    if (this.#draining) return;
    this.#draining = true;
    void this.#drain();
  }

  /** The one writer: takes every queued op as a batch, appends their lines in one write, then the next batch. */
  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue;
        this.#queue = [];
        await this.#commit(batch).catch((error: unknown) => {
          for (const queued of batch) queued.reject(error); // a bug, not an I/O error: never leave a caller hanging
        });
        if (this.#worthCompacting() && !this.#broken) {
          await this.#compact().catch(() => {
            // The old journal is intact and still open; try again once it has doubled.
            this.#compactFloor = this.#lines * 2;
          });
        }
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
      if (this.#broken) throw this.#broken;
      // The lock first: a store that lost it must not write another line.
      if (staged.checkLock) await this.#verifyLock();
      if (staged.entries.length > 0) await this.#append(staged.entries.map(encodeEntry).join(''));
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
    this.#lines += staged.entries.length;
    batch.forEach((queued, index) => queued.resolve(staged.values[index] ?? false));
  }

  #committed(): Committed {
    return { tasks: this.#tasks, inherited: this.#inherited, workerId: this.#workerId };
  }

  /** Appends whole lines; on a failure the journal is cut back to its last good length, or the store is marked broken. */
  async #append(lines: string): Promise<void> {
    const handle = this.#handle;
    if (!handle) throw new Error(`FileStore ${this.path}: the journal is not open`);
    const buffer = Buffer.from(lines, 'utf8');
    try {
      await writeAll(handle, buffer);
    } catch (cause) {
      const error = new Error(`FileStore: could not append to ${this.path}: ${messageOf(cause)}`, { cause });
      // Cut a partial line away, or the next open would find it in the middle of the journal.
      await handle.truncate(this.#bytes).catch(() => {
        this.#broken = new Error(`FileStore ${this.path} stopped writing: an append failed and could not be undone (${messageOf(cause)}); open a new FileStore to recover`, { cause });
      });
      throw error;
    }
    if (this.fsync === 'always') {
      try {
        await handle.datasync();
      } catch (cause) {
        // After a failed sync the kernel may have dropped the data: nothing written since can be trusted.
        this.#broken = new Error(`FileStore ${this.path} stopped writing: fdatasync failed (${messageOf(cause)}); open a new FileStore to recover`, { cause });
        throw this.#broken;
      }
    }
    this.#bytes += buffer.length;
  }

  async #verifyLock(): Promise<void> {
    if (!this.#lock) return;
    try {
      await verifyLock(this.#lockPath, this.path, this.#lock);
    } catch (error) {
      this.#broken = error as Error;
      throw error;
    }
  }

  #worthCompacting(): boolean {
    return this.#lines > this.#compactFloor && this.#lines > COMPACT_RATIO * this.#tasks.size;
  }

  /**
   * Rewrites the journal as one `add` per live record: into `<path>.tmp`, synced, then renamed over the
   * journal (atomic). The new file's handle, opened for appending before the rename, becomes the journal's.
   */
  async #compact(): Promise<void> {
    const content = Buffer.from([...this.#tasks.values()].map((task) => encodeEntry({ op: 'add', task })).join(''), 'utf8');
    const handle = await replaceFile(this.path, this.#tmpPath, content);
    const previous = this.#handle;
    this.#handle = handle;
    this.#bytes = content.length;
    this.#lines = this.#tasks.size;
    this.#compactions++;
    this.#compactFloor = COMPACT_MIN_LINES;
    await previous?.close().catch(() => {});
    if (this.fsync === 'always') await syncDirectory(dirname(this.path));
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
