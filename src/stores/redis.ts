/**
 * `RedisStore`: its options and its life (connections, open, close); each part of the `TaskStore`
 * contract it runs on its command connection has a module of its own: the records (`redis-registry.ts`),
 * the leases (`redis-lease.ts`) and the fleet messages (`redis-fleet.ts`).
 * @module
 */
import type { Redis } from 'ioredis';
import type { TaskRef } from '../refs.js';
import { checkGiven, checkRedisUrl, connectDuplicate, connectOwn, LivenessGate, quitQuietly } from './redis-connection.js';
import { FleetChannel } from './redis-fleet.js';
import { RedisKeys } from './redis-keys.js';
import { Leases, takeWorkerId } from './redis-lease.js';
import { connectionName } from './redis-records.js';
import { RedisRegistry } from './redis-registry.js';
import type { FleetMessage, StoredTask, StoredTaskPatch, TaskStore } from './types.js';

/** Options of {@link RedisStore}: exactly one of `url` and `client`. */
export interface RedisStoreOptions {
  /**
   * `redis://[[user]:password@]host[:port][/db]`, or `rediss://…` for TLS. The store makes its own
   * connections from it (one for commands, one for fleet messages) when the manager opens it, and quits
   * them when the manager closes. ioredis is loaded only then: importing taskguard never loads it.
   */
  readonly url?: string | undefined;
  /**
   * An ioredis client of yours to run the commands on; fleet messages use `client.duplicate()`. The
   * store never quits your client (only the duplicate it made), and leaves how it keeps the process
   * alive to you. `open()` connects it if it is lazy and sends a PING, so it fails or waits as your
   * client's retry settings say. Recommended: `maxRetriesPerRequest: null` (writes wait for a restarting
   * Redis instead of failing).
   */
  readonly client?: Redis | undefined;
  /**
   * Prefix of every key and of the pub/sub channel; workers that share a registry use the same one. On
   * Redis Cluster put a hash tag in it (`{taskguard}:`) so that every key lands in one slot.
   * @default 'taskguard:'
   */
  readonly prefix?: string | undefined;
}

/**
 * One registry for a fleet of workers, in Redis (through ioredis). Every worker renews a lease (a key
 * with a TTL); the tasks of a worker whose lease expired are listed by `listExpired` and moved to a
 * survivor by `claim`, a Lua script, so that two workers never both claim one task. Fleet messages
 * (`cancelAll({ scope: 'fleet' })`) go over pub/sub.
 *
 * Key layout under `prefix` (default `taskguard:`), `<member>` being `<kind>:<id>`: a hash
 * `task:<member>` (kind, id, owner, trackedAt, deadline, status, and on an intent intentFingerprint and
 * intentSentAt), a set `tasks:<owner>`, a set `owners`, a key `lease:<owner>` with a TTL, and the
 * channel `fleet`.
 *
 * @example
 * ```ts
 * import { AgentClient, RedisStore, TaskManager } from 'taskguard';
 *
 * const manager = new TaskManager({
 *   agent: new AgentClient(),
 *   store: new RedisStore({ url: 'redis://127.0.0.1:6379' }),
 *   workerId: 'worker-1',
 * });
 * await manager.ready();                              // rejects if Redis cannot be reached
 * await manager.recover({ policy: 'cancel' });        // the tasks of workers that died
 * ```
 */
export class RedisStore implements TaskStore {
  readonly #url: string | undefined;
  readonly #given: Redis | undefined;
  readonly #keys: RedisKeys;
  readonly #registry: RedisRegistry;
  readonly #leases: Leases;
  readonly #fleet: FleetChannel;
  #client: Redis | undefined;
  #gate: LivenessGate | undefined;
  #workerId: string | undefined;
  #state: 'new' | 'opening' | 'open' | 'closed' = 'new';

  /**
   * Checks the options (exactly one of `url` and `client`; a `TypeError` names what is wrong); nothing
   * connects until `open()`, which the manager calls.
   */
  constructor(options: RedisStoreOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('RedisStore options must be an object: { url } or { client }, and optionally { prefix }');
    const { url, client, prefix = 'taskguard:' } = options;
    if (url !== undefined && client !== undefined) throw new TypeError('RedisStore takes the option `url` or the option `client`, not both');
    if (url === undefined && client === undefined) throw new TypeError('RedisStore needs the option `url` (a redis:// URL) or the option `client` (an ioredis client)');
    if (client !== undefined && (typeof client !== 'object' || client === null || typeof client.evalsha !== 'function' || typeof client.duplicate !== 'function')) {
      throw new TypeError('RedisStore option `client` must be an ioredis client (new Redis(…) from ioredis 5)');
    }
    if (typeof prefix !== 'string' || prefix.length > 256 || /\s/.test(prefix)) {
      throw new TypeError('RedisStore option `prefix` must be a string of at most 256 characters without spaces');
    }
    this.#url = url === undefined ? undefined : checkRedisUrl(url);
    this.#given = client;
    this.#keys = new RedisKeys(prefix);
    this.#registry = new RedisRegistry(this.#keys);
    this.#leases = new Leases(this.#keys);
    this.#fleet = new FleetChannel(this.#keys.channel, () => this.#connectSubscriber());
  }

  /** The key prefix (and channel prefix) in use. */
  get prefix(): string {
    return this.#keys.prefix;
  }

  /**
   * Connects (with `url`) or checks the given client, and takes `workerId`. If a live worker holds the
   * lease of `workerId`, it waits for that lease to run out (a predecessor that just crashed) and
   * rejects if it is renewed meanwhile (another live process uses the same id). Tasks still recorded
   * under `workerId` are a dead predecessor's: they move to an owner `<workerId>~<random>` without a
   * lease, where `recover()` — on this worker or another — finds them.
   */
  async open(workerId: string): Promise<void> {
    if (this.#state !== 'new') throw new Error(this.#state === 'closed' ? 'RedisStore is closed' : 'RedisStore is already open: give each TaskManager its own RedisStore');
    if (typeof workerId !== 'string' || workerId === '') throw new TypeError('RedisStore.open(workerId): workerId must be a non-empty string');
    this.#state = 'opening';
    this.#workerId = workerId;
    const own = this.#url !== undefined;
    let client: Redis | undefined;
    try {
      client = this.#url === undefined ? await checkGiven(this.#given!) : await connectOwn(this.#url, connectionName(workerId, 'cmd'));
      await takeWorkerId(client, this.#keys, workerId);
    } catch (error) {
      if (client && own) await quitQuietly(client);
      if (this.#state === 'opening') this.#state = 'new';
      throw error;
    }
    if (this.#state !== 'opening') {
      // close() was called meanwhile: it could not quit a connection open() had not finished making.
      if (own) await quitQuietly(client);
      throw new Error('RedisStore was closed while it was opening');
    }
    this.#client = client;
    if (own) this.#gate = new LivenessGate(client);
    this.#state = 'open';
  }

  add(task: StoredTask): Promise<void> {
    return this.#use((client) => this.#registry.add(client, task));
  }

  update(ref: TaskRef, patch: StoredTaskPatch): Promise<void> {
    return this.#use((client) => this.#registry.update(client, ref, patch));
  }

  remove(ref: TaskRef): Promise<void> {
    return this.#use((client) => this.#registry.remove(client, ref));
  }

  listByOwner(owner: string): Promise<StoredTask[]> {
    return this.#use((client) => this.#registry.listByOwner(client, owner));
  }

  /** The tasks of every owner but `self` whose lease key is gone. Owners left with nothing are forgotten. */
  listExpired(self: string): Promise<StoredTask[]> {
    return this.#use((client) => this.#registry.listExpired(client, self));
  }

  claim(ref: TaskRef, from: string, to: string): Promise<boolean> {
    return this.#use((client) => this.#registry.claim(client, ref, from, to));
  }

  /**
   * Sets the lease key of `owner` with a TTL of `leaseMs`. If this store had set it before and it was
   * gone (Redis was unreachable, or the process paused, for longer than `leaseMs`), the lease is set
   * again and the call rejects to report it: other workers may have claimed the owner's tasks meanwhile.
   */
  renewLease(owner: string, leaseMs: number): Promise<void> {
    return this.#use((client) => this.#leases.renew(client, owner, leaseMs));
  }

  releaseLease(owner: string): Promise<void> {
    return this.#use((client) => this.#leases.release(client, owner));
  }

  /** Publishes a fleet message on the channel `<prefix>fleet` (JSON). */
  publish(message: FleetMessage): Promise<void> {
    return this.#use((client) => this.#fleet.publish(client, message));
  }

  /**
   * Receives fleet messages on a connection of its own (pub/sub needs one), made on the first call and
   * quit when the last listener stops. Messages sent while this worker is disconnected are not replayed.
   */
  async subscribe(listener: (message: FleetMessage) => void): Promise<() => Promise<void>> {
    this.#ready();
    return this.#fleet.subscribe(listener);
  }

  /** Quits the connections the store made (never a client you gave it). Calling it again is harmless. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    const client = this.#client;
    this.#client = undefined;
    await this.#fleet.close();
    if (client && this.#url !== undefined) await quitQuietly(client);
  }

  #connectSubscriber(): Promise<Redis> {
    return this.#url !== undefined ? connectOwn(this.#url, connectionName(this.#workerId ?? 'worker', 'sub')) : connectDuplicate(this.#given!);
  }

  /**
   * Runs an operation on the command connection. A connection the store made holds the process open
   * only while an operation is in flight: the scheduler, not the registry, keeps a worker alive.
   */
  async #use<T>(operation: (client: Redis) => Promise<T>): Promise<T> {
    const client = this.#ready();
    return this.#gate ? this.#gate.run(() => operation(client)) : operation(client);
  }

  #ready(): Redis {
    if (this.#state === 'open' && this.#client) return this.#client;
    throw new Error(this.#state === 'closed' ? 'RedisStore is closed' : 'RedisStore is not open yet: the TaskManager opens it (await manager.ready())');
  }
}
