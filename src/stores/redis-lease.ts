/**
 * The leases of `RedisStore`: taking a worker id when the store opens (waiting out the lease of a
 * predecessor that just crashed, and handing its tasks to recovery), and the renewals that keep the
 * lease, which must notice one that lapsed in between.
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { sleep } from '../util/sleep.js';
import type { RedisKeys } from './redis-keys.js';
import { checkOwner, leaseValue } from './redis-records.js';
import { OPEN, RELEASE, RENEW, runScript } from './redis-scripts.js';

/** How long `open()` waits, past the lease's remaining time, before it looks at a held lease again. */
const LEASE_RECHECK_SLACK_MS = 50;

/**
 * Takes `workerId`, or rejects if a live process holds its lease. Tasks still recorded under it are a
 * dead predecessor's: the script moves them to an owner `<workerId>~<random>` without a lease.
 */
export async function takeWorkerId(client: Redis, keys: RedisKeys, workerId: string): Promise<void> {
  const scriptKeys = [keys.lease(workerId), keys.tasks(workerId), keys.owners];
  const args = [keys.prefix, `${workerId}~${randomBytes(4).toString('hex')}`];
  let [took, value] = (await runScript(client, OPEN, scriptKeys, args)) as [number, number];
  if (took === 1) return;
  if (value > 0) {
    // The lease is held: a predecessor that died less than a lease ago, or a live process with this id.
    await sleep(value + LEASE_RECHECK_SLACK_MS);
    [took, value] = (await runScript(client, OPEN, scriptKeys, args)) as [number, number];
    if (took === 1) return;
  }
  throw new Error(
    value === -1
      ? `RedisStore: the lease key ${keys.lease(workerId)} has no expiry; delete it or choose another workerId`
      : `RedisStore: another live worker holds the lease of workerId "${workerId}" (it renews it); give each worker process its own workerId`,
  );
}

/** The leases one store sets and ends. */
export class Leases {
  readonly #keys: RedisKeys;
  /** Owners whose lease this store has set: a renewal that finds the lease gone means it had lapsed. */
  readonly #set = new Set<string>();

  constructor(keys: RedisKeys) {
    this.#keys = keys;
  }

  /** Sets the lease of `owner` for `leaseMs`; rejects, once it is set again, if it had lapsed since the last renewal. */
  async renew(client: Redis, owner: string, leaseMs: number): Promise<void> {
    checkOwner(owner, 'renewLease');
    if (!(typeof leaseMs === 'number' && Number.isFinite(leaseMs) && leaseMs > 0)) throw new RangeError(`RedisStore.renewLease: leaseMs must be a number > 0, got ${String(leaseMs)}`);
    const had = await runScript(client, RENEW, [this.#keys.lease(owner)], [leaseValue(), Math.ceil(leaseMs)]);
    const renewal = this.#set.has(owner);
    this.#set.add(owner);
    if (renewal && had === 0) {
      throw new Error(
        `RedisStore: the lease of worker "${owner}" had expired before it was renewed (Redis unreachable or the process stalled for longer than leaseMs = ${leaseMs} ms); it is renewed now, but other workers may have claimed its tasks meanwhile`,
      );
    }
  }

  /** Ends the lease of `owner`; an owner with no task left leaves the owners set. */
  async release(client: Redis, owner: string): Promise<void> {
    checkOwner(owner, 'releaseLease');
    this.#set.delete(owner);
    await runScript(client, RELEASE, [this.#keys.lease(owner), this.#keys.tasks(owner), this.#keys.owners], [owner]);
  }
}
