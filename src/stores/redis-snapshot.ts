/**
 * A read-only look at the registry a fleet of `RedisStore`s shares: every owner with its lease and its
 * tasks, for operators (`taskguard fleet`). It reads the key layout of `redis-scripts.ts` and writes
 * nothing — unlike `RedisStore`, it takes no worker id and no lease, and forgets no owner.
 * @module
 */
import type { Redis } from 'ioredis';
import { RedisKeys } from './redis-keys.js';
import { exec, readTasks } from './redis-records.js';
import type { StoredTask } from './types.js';

/** The lease of an owner, as its key holds it. */
export interface LeaseSnapshot {
  /** Milliseconds until the lease expires unless renewed; `null` when the key has no expiry. */
  readonly ttlMs: number | null;
  /** When the owner last renewed it (epoch ms), from the lease's value; `null` if unreadable. */
  readonly renewedAt: number | null;
  /** The host and pid of the owner's process, from the lease's value. */
  readonly host: string | null;
  readonly pid: number | null;
}

/** One owner (a worker id) of the registry. */
export interface OwnerSnapshot {
  readonly owner: string;
  /** Its lease, or `null` when the lease key is gone: the owner is dead and its tasks are orphans. */
  readonly lease: LeaseSnapshot | null;
  /** Its tasks, sorted by ref key (`<kind>:<id>`). */
  readonly tasks: readonly StoredTask[];
}

/** The registry under one prefix, read owner by owner (not one atomic instant). */
export interface RegistrySnapshot {
  readonly prefix: string;
  readonly owners: readonly OwnerSnapshot[];
}

/** Reads every owner of the registry under `prefix`, its lease and its tasks, sorted by owner. */
export async function readRegistry(client: Redis, prefix: string): Promise<RegistrySnapshot> {
  const keys = new RedisKeys(prefix);
  const owners = (await client.smembers(keys.owners)).sort();
  const snapshots: OwnerSnapshot[] = [];
  for (const owner of owners) {
    const [value, ttl, members] = (await exec(
      client.pipeline([
        ['get', keys.lease(owner)],
        ['pttl', keys.lease(owner)],
        ['smembers', keys.tasks(owner)],
      ]),
    )) as [string | null, number, string[]];
    // A member whose hash names another owner was claimed between the two reads: it shows under its new owner.
    const tasks = (await readTasks(client, keys, members.sort())).filter((task) => task.owner === owner);
    snapshots.push({ owner, lease: value === null || ttl === -2 ? null : leaseOf(value, ttl), tasks });
  }
  return { prefix, owners: snapshots };
}

function leaseOf(value: string, ttl: number): LeaseSnapshot {
  let parsed: { host?: unknown; pid?: unknown; renewedAt?: unknown } = {};
  try {
    parsed = (JSON.parse(value) as typeof parsed | null) ?? {};
  } catch {
    // A lease written by something else than RedisStore still counts as a lease; its details stay unknown.
  }
  return {
    ttlMs: ttl >= 0 ? ttl : null,
    renewedAt: typeof parsed.renewedAt === 'number' ? parsed.renewedAt : null,
    host: typeof parsed.host === 'string' ? parsed.host : null,
    pid: typeof parsed.pid === 'number' ? parsed.pid : null,
  };
}
