import { InvalidResponseError } from '../errors/classes.js';
import { isRecord } from '../errors/factory.js';
import type { NormalizedStatus } from './types.js';

/** One page of a kind's list, as list sweeps read it. */
export interface ListedPage {
  /** The page's tasks: ID → status. */
  readonly statuses: ReadonlyMap<string, NormalizedStatus>;
  /** How many entries the page had: the next page's offset moves by this much. */
  readonly count: number;
  /** Whether a next page exists. */
  readonly hasMore: boolean;
}

/**
 * Reads one list answer, checking its documented shape: read as "no tasks", an answer of another shape
 * would make every tracked task look missing. `normalize` turns the list's status word into a status.
 */
export function listedPage(answer: unknown, path: string, idField: string, normalize: (word: string) => NormalizedStatus): ListedPage {
  const tasks = isRecord(answer) ? answer['tasks'] : undefined;
  const hasMore = isRecord(answer) ? answer['hasMore'] : undefined;
  if (!Array.isArray(tasks) || typeof hasMore !== 'boolean') throw malformed(path, 'the answer has no tasks array or no hasMore flag', answer);
  const statuses = new Map<string, NormalizedStatus>();
  for (const task of tasks) {
    const id = isRecord(task) ? task[idField] : undefined;
    const status = isRecord(task) ? task['status'] : undefined;
    if (typeof id !== 'string' || typeof status !== 'string') throw malformed(path, `a task has no string ${idField} or status`, answer);
    statuses.set(id, normalize(status));
  }
  // An empty page that claims more would page on forever.
  return { statuses, count: tasks.length, hasMore: hasMore && tasks.length > 0 };
}

function malformed(path: string, what: string, body: unknown): InvalidResponseError {
  return new InvalidResponseError(200, `200 GET ${path}: ${what}`, { method: 'GET', path, body });
}
