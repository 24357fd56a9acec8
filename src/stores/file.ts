/**
 * `FileStore`: its options, its life (lock, open, close) and the checks of every call. The journal's
 * line format, the batches, the one writer, the file itself and the lock each have a module of their
 * own next to it.
 * @module
 */
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { TaskRef } from '../refs.js';
import { JournalAppender } from './file-appender.js';
import type { Op } from './file-batch.js';
import { acquireLock, releaseLock, verifyLock, type LockInfo } from './file-lock.js';
import { JournalWriter } from './file-writer.js';
import { checkPatch, checkRef, checkTask, text } from './records.js';
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
  readonly #journal: JournalAppender;
  readonly #writer: JournalWriter;
  #state: State = 'new';
  #workerId = '';
  #lock: LockInfo | undefined;
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
    this.#journal = new JournalAppender(this.path, `${this.path}.tmp`, fsync);
    this.#writer = new JournalWriter(this.#journal, () => this.#verifyLock());
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
    return this.#writer.listByOwner(owner);
  }

  /** The records of processes that are gone: every record found at open and not tracked again, and any other owner's. */
  async listExpired(self: string): Promise<StoredTask[]> {
    text(self, 'self');
    await this.#enqueue({ type: 'barrier' });
    return this.#writer.listExpired(self);
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
    if (this.#state !== 'open') throw this.#notOpen();
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
    return { records: this.#writer.size, ...this.#journal.stats() };
  }

  async #open(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const lock = await acquireLock(this.#lockPath, this.path, this.#workerId);
    try {
      this.#writer.load(await this.#journal.open(), this.#workerId);
      this.#lock = lock;
    } catch (error) {
      await this.#journal.close().catch(() => {});
      await releaseLock(this.#lockPath, lock).catch(() => {});
      throw error;
    }
  }

  async #close(): Promise<void> {
    if (this.#state === 'opening') await this.#opening?.catch(() => {});
    const wasOpen = this.#state === 'open';
    this.#state = 'closing';
    try {
      if (wasOpen) await this.#writer.enqueue({ type: 'barrier' });
      await this.#journal.close();
    } finally {
      this.#state = 'closed';
      if (this.#lock) await releaseLock(this.#lockPath, this.#lock);
      this.#lock = undefined;
    }
  }

  #enqueue(op: Op): Promise<boolean> {
    return this.#state === 'open' ? this.#writer.enqueue(op) : Promise.reject(this.#notOpen());
  }

  #notOpen(): Error {
    if (this.#state === 'closing' || this.#state === 'closed') return new Error(`FileStore ${this.path} is closed: create a new FileStore to open the journal again`);
    return new Error(`FileStore ${this.path} is not open: a TaskManager opens its store (or call open(workerId) first)`);
  }

  async #verifyLock(): Promise<void> {
    if (this.#lock) await verifyLock(this.#lockPath, this.path, this.#lock);
  }
}
