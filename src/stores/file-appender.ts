/**
 * The journal file of a {@link FileStore} as the store writes it: the replay at open (a torn last line
 * cut away), one handle that appends whole lines, and the compaction that rewrites the journal as its
 * live records. It keeps the journal's length so that a failed append can be cut back to it, and
 * stops every later write once the file can no longer be trusted to match the records in memory.
 * @module
 */
import { open, truncate, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { readIfExists, replaceFile, syncDirectory, writeAll } from './file-io.js';
import { encodeEntry, replayJournal, type JournalEntry } from './file-journal.js';
import type { StoredTask } from './types.js';

/** Compact when the journal has more lines than this… */
const COMPACT_MIN_LINES = 1_000;
/** …and more than this many times the live records. */
const COMPACT_RATIO = 4;

/** The journal at `path`, appended to through one handle. */
export class JournalAppender {
  readonly #path: string;
  readonly #tmpPath: string;
  readonly #fsync: 'always' | 'never';
  #handle: FileHandle | undefined;
  #bytes = 0;
  #lines = 0;
  #tornBytes = 0;
  #compactions = 0;
  /** No compaction before the journal has this many lines (raised after a compaction that failed). */
  #compactFloor = COMPACT_MIN_LINES;
  /** Set once the journal can no longer be trusted to match memory: every later write rejects with it. */
  #broken: Error | undefined;

  /** `tmpPath` is where compaction writes the new journal before renaming it over `path`. */
  constructor(path: string, tmpPath: string, fsync: 'always' | 'never') {
    this.#path = path;
    this.#tmpPath = tmpPath;
    this.#fsync = fsync;
  }

  /** Why writes stopped, if they did. */
  get broken(): Error | undefined {
    return this.#broken;
  }

  /** `lines` and `bytes` in the journal, `compactions` done, and `tornBytes` dropped at open. */
  stats(): { readonly lines: number; readonly bytes: number; readonly compactions: number; readonly tornBytes: number } {
    return { lines: this.#lines, bytes: this.#bytes, compactions: this.#compactions, tornBytes: this.#tornBytes };
  }

  /** Replays the journal (dropping a torn last line), compacts it if that is due, and opens it for appending; resolves with its records. */
  async open(): Promise<Map<string, StoredTask>> {
    const buffer = await readIfExists(this.#path);
    const replay = replayJournal(buffer ?? new Uint8Array(0), this.#path);
    if (replay.tornBytes > 0) await truncate(this.#path, replay.validBytes);
    this.#bytes = replay.validBytes;
    this.#lines = replay.lines;
    this.#tornBytes = replay.tornBytes;
    await this.compactIfDue(replay.tasks);
    if (!this.#handle) {
      this.#handle = await open(this.#path, 'a');
      if (buffer === undefined && this.#fsync === 'always') await syncDirectory(dirname(this.#path));
    }
    return replay.tasks;
  }

  /** Appends whole lines; on a failure the journal is cut back to its last good length, or writes stop. */
  async append(entries: readonly JournalEntry[]): Promise<void> {
    const handle = this.#handle;
    if (!handle) throw new Error(`FileStore ${this.#path}: the journal is not open`);
    const buffer = Buffer.from(entries.map(encodeEntry).join(''), 'utf8');
    try {
      await writeAll(handle, buffer);
    } catch (cause) {
      const error = new Error(`FileStore: could not append to ${this.#path}: ${messageOf(cause)}`, { cause });
      // Cut a partial line away, or the next open would find it in the middle of the journal.
      await handle.truncate(this.#bytes).catch(() => {
        this.#broken = new Error(`FileStore ${this.#path} stopped writing: an append failed and could not be undone (${messageOf(cause)}); open a new FileStore to recover`, { cause });
      });
      throw error;
    }
    if (this.#fsync === 'always') {
      try {
        await handle.datasync();
      } catch (cause) {
        // After a failed sync the kernel may have dropped the data: nothing written since can be trusted.
        this.#broken = new Error(`FileStore ${this.#path} stopped writing: fdatasync failed (${messageOf(cause)}); open a new FileStore to recover`, { cause });
        throw this.#broken;
      }
    }
    this.#bytes += buffer.length;
    this.#lines += entries.length;
  }

  /** Stops every later write with `error` (the store lost its lock). */
  stop(error: Error): void {
    this.#broken = error;
  }

  /**
   * Compacts once the journal has more than 1000 lines and more than 4× the live `tasks`. A compaction
   * that fails leaves the old journal intact and still open: the next try waits until it has doubled.
   */
  async compactIfDue(tasks: ReadonlyMap<string, StoredTask>): Promise<void> {
    if (this.#broken || this.#lines <= this.#compactFloor || this.#lines <= COMPACT_RATIO * tasks.size) return;
    await this.#compact(tasks).catch(() => {
      this.#compactFloor = this.#lines * 2;
    });
  }

  /** Closes the handle; the journal stays as it is. */
  async close(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    await handle?.close();
  }

  /**
   * Rewrites the journal as one `add` per live record: into `<path>.tmp`, synced, then renamed over the
   * journal (atomic). The new file's handle, opened for appending before the rename, becomes the journal's.
   */
  async #compact(tasks: ReadonlyMap<string, StoredTask>): Promise<void> {
    const content = Buffer.from([...tasks.values()].map((task) => encodeEntry({ op: 'add', task })).join(''), 'utf8');
    const handle = await replaceFile(this.#path, this.#tmpPath, content);
    const previous = this.#handle;
    this.#handle = handle;
    this.#bytes = content.length;
    this.#lines = tasks.size;
    this.#compactions++;
    this.#compactFloor = COMPACT_MIN_LINES;
    await previous?.close().catch(() => {});
    if (this.#fsync === 'always') await syncDirectory(dirname(this.#path));
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
