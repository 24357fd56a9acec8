/**
 * The line format of a {@link FileStore} journal: encoding, strict decoding, and replay of a whole file.
 *
 * One JSON object per line, each ending with `\n`:
 *
 * ```text
 * {"op":"add","task":{"kind":"agent","id":"r1","owner":"w1","deadline":1767225600000,"status":null,"trackedAt":1767220000000}}
 * {"op":"add","task":{"kind":"cloud","id":"~3f9c","owner":"w1","deadline":null,"status":null,"trackedAt":1767220000000,"intent":{"fingerprint":"9f86…","sentAt":1767220000000}}}
 * {"op":"update","kind":"agent","id":"r1","patch":{"status":"in_progress"}}
 * {"op":"remove","kind":"agent","id":"r1"}
 * ```
 *
 * `add` records a task (replacing a record of the same ref; only an intent has the key `intent`),
 * `update` patches `owner`, `deadline` or `status` of a record (a missing record is ignored, and the
 * intent is kept), `remove` forgets one. Replaying the lines in order gives the current set.
 * @module
 */
import { refKey } from '../refs.js';
import { checkPatch, checkTask, isObject, text } from './records.js';
import type { StoredTask, StoredTaskPatch } from './types.js';

/** One line of the journal. */
export type JournalEntry =
  | { readonly op: 'add'; readonly task: StoredTask }
  | { readonly op: 'update'; readonly kind: string; readonly id: string; readonly patch: StoredTaskPatch }
  | { readonly op: 'remove'; readonly kind: string; readonly id: string };

/** What replaying a journal file found. */
export interface Replay {
  /** The current records, by `refKey`. */
  readonly tasks: Map<string, StoredTask>;
  /** Lines replayed (the torn tail not counted). */
  readonly lines: number;
  /** Bytes up to the end of the last good line: the length the file is truncated to. */
  readonly validBytes: number;
  /** Bytes of a torn last line that were ignored (0 when the file ended cleanly). */
  readonly tornBytes: number;
}

/** The JSON line (with its `\n`) of an entry. */
export function encodeEntry(entry: JournalEntry): string {
  return `${JSON.stringify(entry)}\n`;
}

/** Applies one entry to a set of records, as replay and the live store both do. */
export function applyEntry(tasks: Map<string, StoredTask>, entry: JournalEntry): void {
  if (entry.op === 'add') {
    tasks.set(refKey(entry.task), entry.task);
    return;
  }
  const key = refKey(entry);
  if (entry.op === 'remove') {
    tasks.delete(key);
    return;
  }
  const task = tasks.get(key);
  if (task) tasks.set(key, { ...task, ...entry.patch });
}

const NEWLINE = 0x0a;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Replays a journal. The last line may be torn (the process or the machine died in the middle of an
 * append): a last line without its `\n`, or a last line that does not decode, is ignored and reported in
 * `tornBytes`. Any other line that does not decode is corruption: it throws, naming the line, and
 * drops nothing.
 */
export function replayJournal(buffer: Uint8Array, path: string): Replay {
  const tasks = new Map<string, StoredTask>();
  let lines = 0;
  let position = 0;
  let lineNumber = 0;
  while (position < buffer.length) {
    const newline = buffer.indexOf(NEWLINE, position);
    const end = newline === -1 ? buffer.length : newline;
    lineNumber++;
    let entry: JournalEntry | undefined;
    let problem: string | undefined;
    try {
      entry = end === position ? undefined : decodeLine(buffer.subarray(position, end));
    } catch (error) {
      problem = error instanceof Error ? error.message : String(error);
    }
    const last = newline === -1 || newline + 1 === buffer.length;
    if (newline === -1 || (problem !== undefined && last)) {
      return { tasks, lines, validBytes: position, tornBytes: buffer.length - position };
    }
    if (problem !== undefined) {
      const excerpt = JSON.stringify(new TextDecoder().decode(buffer.subarray(position, Math.min(end, position + 80))));
      throw new Error(
        `FileStore: the journal ${path} is corrupt at line ${lineNumber} (byte ${position}): ${problem}; the line reads ${excerpt}. ` +
          'Nothing was dropped: repair or remove that line (or move the file away), then open the store again.',
      );
    }
    if (entry) {
      applyEntry(tasks, entry);
      lines++;
    }
    position = newline + 1;
  }
  return { tasks, lines, validBytes: position, tornBytes: 0 };
}

/** Decodes one line strictly: valid UTF-8, a JSON object, a known op with well-typed fields. */
function decodeLine(bytes: Uint8Array): JournalEntry {
  const value: unknown = JSON.parse(utf8.decode(bytes));
  if (!isObject(value)) throw new Error('not a JSON object');
  switch (value['op']) {
    case 'add':
      return { op: 'add', task: checkTask(value['task'], 'task') };
    case 'update':
      return { op: 'update', kind: text(value['kind'], 'kind'), id: text(value['id'], 'id'), patch: checkPatch(value['patch'], 'patch') };
    case 'remove':
      return { op: 'remove', kind: text(value['kind'], 'kind'), id: text(value['id'], 'id') };
    default:
      throw new Error(`unknown op ${JSON.stringify(value['op'])}`);
  }
}
