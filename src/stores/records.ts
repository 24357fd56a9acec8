/**
 * The one check of the records a durable store is given (and of those FileStore reads back from its
 * journal): a {@link StoredTask}, a patch, a ref. FileStore and RedisStore both use it, so a record one
 * accepts, the other accepts too. Each returns a copy with exactly the known fields, or throws a
 * `TypeError` naming the field under the `name` the caller gives (`task`, `RedisStore.add: task`, …).
 * @module
 */
import type { TaskRef } from '../refs.js';
import type { StoredIntent, StoredTask, StoredTaskPatch } from './types.js';

/** A stored task with exactly the fields of {@link StoredTask}. */
export function checkTask(value: unknown, name: string): StoredTask {
  if (!isObject(value)) throw new TypeError(`${name} must be an object`);
  const trackedAt = value['trackedAt'];
  if (typeof trackedAt !== 'number' || !Number.isFinite(trackedAt)) throw new TypeError(`${name}.trackedAt must be a finite number`);
  const task: StoredTask = {
    kind: text(value['kind'], `${name}.kind`),
    id: text(value['id'], `${name}.id`),
    owner: text(value['owner'], `${name}.owner`),
    deadline: deadlineOf(value['deadline'], `${name}.deadline`),
    status: statusOf(value['status'], `${name}.status`),
    trackedAt,
  };
  // Without an intent the record keeps no `intent` key, so its line stays what it was before intents existed.
  return value['intent'] === undefined ? task : { ...task, intent: checkIntent(value['intent'], `${name}.intent`) };
}

/** An intent with exactly the fields of {@link StoredIntent}. */
function checkIntent(value: unknown, name: string): StoredIntent {
  if (!isObject(value)) throw new TypeError(`${name} must be an object`);
  const sentAt = value['sentAt'];
  if (typeof sentAt !== 'number' || !Number.isFinite(sentAt)) throw new TypeError(`${name}.sentAt must be a finite number`);
  return { fingerprint: text(value['fingerprint'], `${name}.fingerprint`), sentAt };
}

/** A patch with only the fields it sets (undefined ones dropped). */
export function checkPatch(value: unknown, name: string): StoredTaskPatch {
  if (!isObject(value)) throw new TypeError(`${name} must be an object`);
  const patch: { owner?: string; deadline?: number | null; status?: string | null } = {};
  if (value['owner'] !== undefined) patch.owner = text(value['owner'], `${name}.owner`);
  if (value['deadline'] !== undefined) patch.deadline = deadlineOf(value['deadline'], `${name}.deadline`);
  if (value['status'] !== undefined) patch.status = statusOf(value['status'], `${name}.status`);
  return patch;
}

/** A `{ kind, id }` ref. */
export function checkRef(value: unknown, name: string): TaskRef {
  if (!isObject(value)) throw new TypeError(`${name} must be a { kind, id } object`);
  return { kind: text(value['kind'], `${name}.kind`), id: text(value['id'], `${name}.id`) };
}

/** A non-empty string. */
export function text(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') throw new TypeError(`${name} must be a non-empty string`);
  return value;
}

function deadlineOf(value: unknown, name: string): number | null {
  if (value === null || (typeof value === 'number' && Number.isFinite(value))) return value;
  throw new TypeError(`${name} must be a finite number or null`);
}

function statusOf(value: unknown, name: string): string | null {
  if (value === null || typeof value === 'string') return value;
  throw new TypeError(`${name} must be a string or null`);
}

export function isObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
