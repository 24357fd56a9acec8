/**
 * The record side of `RedisStore`: how a record is written to its hash and read back from it, the
 * Redis names of the checks of `records.ts`, and the JSON of fleet messages.
 * @module
 */
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { refKey, type TaskRef } from '../refs.js';
import type { RedisKeys } from './redis-keys.js';
import { checkRef, text } from './records.js';
import type { FleetMessage, StoredTask } from './types.js';

export function connectionName(workerId: string, role: 'cmd' | 'sub'): string {
  return `taskguard:${workerId}:${role}`.replace(/[^\w.:@-]/g, '_');
}

export function leaseValue(): string {
  return JSON.stringify({ host: hostname(), pid: process.pid, renewedAt: Date.now() });
}

/** `u` unchanged, `n` null, `v<value>` set. */
export function patchArg(value: string | null | undefined): string {
  return value === undefined ? 'u' : value === null ? 'n' : `v${value}`;
}

export async function exec(pipeline: ReturnType<Redis['pipeline']>): Promise<unknown[]> {
  const results = (await pipeline.exec()) ?? [];
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}

/**
 * The field/value pairs of a record's nullable and optional fields that are set: a null field is left
 * out of the hash, and an intent writes both of its fields.
 */
export function optionalFields(task: StoredTask): string[] {
  const fields: string[] = [];
  if (task.deadline !== null) fields.push('deadline', String(task.deadline));
  if (task.status !== null) fields.push('status', task.status);
  if (task.intent !== undefined) fields.push('intentFingerprint', task.intent.fingerprint, 'intentSentAt', String(task.intent.sentAt));
  return fields;
}

/** The record a task hash holds, or `undefined` for a hash `add` cannot have written (a field missing, half an intent). */
function parseTask(hash: Readonly<Record<string, string>>): StoredTask | undefined {
  const { kind, id, owner, trackedAt, deadline, status, intentFingerprint, intentSentAt } = hash;
  if (kind === undefined || id === undefined || owner === undefined || trackedAt === undefined) return undefined;
  const task: StoredTask = { kind, id, owner, deadline: deadline === undefined ? null : Number(deadline), status: status ?? null, trackedAt: Number(trackedAt) };
  if (intentFingerprint === undefined && intentSentAt === undefined) return task;
  // Skipped rather than read as a plain task: its `~` id would then be cancelled as if it were a real task.
  if (intentFingerprint === undefined || intentSentAt === undefined) return undefined;
  return { ...task, intent: { fingerprint: intentFingerprint, sentAt: Number(intentSentAt) } };
}

/** The records of `members`, in their order, leaving out the hashes {@link parseTask} rejects (and the missing ones). */
export async function readTasks(client: Redis, keys: RedisKeys, members: readonly string[]): Promise<StoredTask[]> {
  if (members.length === 0) return [];
  const hashes = (await exec(client.pipeline(members.map((member) => ['hgetall', keys.task(member)])))) as Record<string, string>[];
  return hashes.map((hash) => parseTask(hash)).filter((task): task is StoredTask => task !== undefined);
}

export function parseFleetMessage(text: string): FleetMessage | undefined {
  try {
    const value = JSON.parse(text) as { type?: unknown; from?: unknown };
    return value?.type === 'cancelAll' && typeof value.from === 'string' ? { type: 'cancelAll', from: value.from } : undefined;
  } catch {
    return undefined;
  }
}

/** The set member of a ref (its `kind:id`), the ref checked. */
export function memberOf(ref: TaskRef, method: string): string {
  return refKey(checkRef(ref, `RedisStore.${method}: ref`));
}

export function checkOwner(owner: string, method: string): void {
  text(owner, `RedisStore.${method}: owner`);
}
