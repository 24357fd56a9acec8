/**
 * The pure parts of `RedisStore`: argument checks, how a record is written to and read from its hash,
 * and the JSON of fleet messages.
 * @module
 */
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { refKey, type TaskRef } from '../refs.js';
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

/** The record a task hash holds, or `undefined` for a hash `add` cannot have written (a field missing, half an intent). */
export function parseTask(hash: Readonly<Record<string, string>>): StoredTask | undefined {
  const { kind, id, owner, trackedAt, deadline, status, intentFingerprint, intentSentAt } = hash;
  if (kind === undefined || id === undefined || owner === undefined || trackedAt === undefined) return undefined;
  const task: StoredTask = { kind, id, owner, deadline: deadline === undefined ? null : Number(deadline), status: status ?? null, trackedAt: Number(trackedAt) };
  if (intentFingerprint === undefined && intentSentAt === undefined) return task;
  // Skipped rather than read as a plain task: its `~` id would then be cancelled as if it were a real task.
  if (intentFingerprint === undefined || intentSentAt === undefined) return undefined;
  return { ...task, intent: { fingerprint: intentFingerprint, sentAt: Number(intentSentAt) } };
}

export function parseFleetMessage(text: string): FleetMessage | undefined {
  try {
    const value = JSON.parse(text) as { type?: unknown; from?: unknown };
    return value?.type === 'cancelAll' && typeof value.from === 'string' ? { type: 'cancelAll', from: value.from } : undefined;
  } catch {
    return undefined;
  }
}

export function checkRef(ref: TaskRef): string {
  if (typeof ref?.kind !== 'string' || ref.kind === '' || typeof ref.id !== 'string' || ref.id === '') throw new TypeError('RedisStore: a ref must be { kind, id } with non-empty strings');
  return refKey(ref);
}

export function checkOwner(owner: string, method: string): void {
  if (typeof owner !== 'string' || owner === '') throw new TypeError(`RedisStore.${method}: an owner must be a non-empty string`);
}

export function checkTask(task: StoredTask): void {
  checkRef(task);
  checkOwner(task.owner, 'add');
  if (task.deadline !== null && !Number.isFinite(task.deadline)) throw new TypeError('RedisStore.add: task.deadline must be a finite number or null');
  if (task.status !== null && typeof task.status !== 'string') throw new TypeError('RedisStore.add: task.status must be a string or null');
  if (!Number.isFinite(task.trackedAt)) throw new TypeError('RedisStore.add: task.trackedAt must be a finite number');
  const { intent } = task;
  if (intent === undefined) return;
  if (typeof intent !== 'object' || intent === null) throw new TypeError('RedisStore.add: task.intent must be an object');
  if (typeof intent.fingerprint !== 'string' || intent.fingerprint === '') throw new TypeError('RedisStore.add: task.intent.fingerprint must be a non-empty string');
  if (!Number.isFinite(intent.sentAt)) throw new TypeError('RedisStore.add: task.intent.sentAt must be a finite number');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
