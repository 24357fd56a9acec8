import { randomBytes, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { refKey, type TaskRef } from '../refs.js';
import { checkRedisUrl, connectDuplicate, connectOwn, describeClient, LivenessGate, quitQuietly, unrefAlways } from './redis-connection.js';
import { checkPatch, checkTask } from './records.js';
import { checkOwner, connectionName, exec, leaseValue, memberOf, parseFleetMessage, parseTask, patchArg, sleep } from './redis-records.js';
import { ADD, CLAIM, FORGET_OWNER, OPEN, RELEASE, REMOVE, RENEW, runScript, UPDATE } from './redis-scripts.js';
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

/** How long `open()` waits, past the lease's remaining time, before it looks at a held lease again. */
const LEASE_RECHECK_SLACK_MS = 50;

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
  readonly #prefix: string;
  #client: Redis | undefined;
  #gate: LivenessGate | undefined;
  #subscriber: Promise<Redis> | undefined;
  readonly #listeners = new Set<(message: FleetMessage) => void>();
  #workerId: string | undefined;
  #state: 'new' | 'opening' | 'open' | 'closed' = 'new';
  /** Owners whose lease this store has set: a renewal that finds the lease gone means it had lapsed. */
  readonly #leases = new Set<string>();

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
    this.#prefix = prefix;
  }

  /** The key prefix (and channel prefix) in use. */
  get prefix(): string {
    return this.#prefix;
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
      client = this.#url === undefined ? await this.#checkGiven(this.#given!) : await connectOwn(this.#url, connectionName(workerId, 'cmd'));
      await this.#takeWorkerId(client, workerId);
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

  add(given: StoredTask): Promise<void> {
    return this.#use(async (client) => {
      const task = checkTask(given, 'RedisStore.add: task');
      const member = refKey(task);
      const optional: string[] = [];
      if (task.deadline !== null) optional.push('deadline', String(task.deadline));
      if (task.status !== null) optional.push('status', task.status);
      if (task.intent !== undefined) optional.push('intentFingerprint', task.intent.fingerprint, 'intentSentAt', String(task.intent.sentAt));
      await runScript(
        client,
        ADD,
        [this.#taskKey(member), this.#tasksKey(task.owner), this.#ownersKey()],
        [this.#prefix, member, task.kind, task.id, task.owner, String(task.trackedAt), ...optional],
      );
    });
  }

  update(ref: TaskRef, patch: StoredTaskPatch): Promise<void> {
    return this.#use(async (client) => {
      const member = memberOf(ref, 'update');
      const { owner, deadline, status } = checkPatch(patch, 'RedisStore.update: patch');
      await runScript(
        client,
        UPDATE,
        [this.#taskKey(member), this.#ownersKey()],
        [this.#prefix, member, patchArg(owner), patchArg(deadline === undefined || deadline === null ? deadline : String(deadline)), patchArg(status)],
      );
    });
  }

  remove(ref: TaskRef): Promise<void> {
    return this.#use(async (client) => {
      const member = memberOf(ref, 'remove');
      await runScript(client, REMOVE, [this.#taskKey(member), this.#ownersKey()], [this.#prefix, member]);
    });
  }

  listByOwner(owner: string): Promise<StoredTask[]> {
    return this.#use(async (client) => {
      checkOwner(owner, 'listByOwner');
      const members = await client.smembers(this.#tasksKey(owner));
      return (await this.#readTasks(client, members)).filter((task) => task.owner === owner);
    });
  }

  /** The tasks of every owner but `self` whose lease key is gone. Owners left with nothing are forgotten. */
  listExpired(self: string): Promise<StoredTask[]> {
    return this.#use(async (client) => {
      checkOwner(self, 'listExpired');
      const owners = (await client.smembers(this.#ownersKey())).filter((owner) => owner !== self);
      if (owners.length === 0) return [];
      const leases = await exec(client.pipeline(owners.map((owner) => ['exists', this.#leaseKey(owner)])));
      const gone = owners.filter((_, i) => leases[i] === 0);
      if (gone.length === 0) return [];
      const sets = (await exec(client.pipeline(gone.map((owner) => ['smembers', this.#tasksKey(owner)])))) as string[][];
      const expired: StoredTask[] = [];
      const empty: string[] = [];
      for (const [i, owner] of gone.entries()) {
        const members = sets[i] ?? [];
        if (members.length === 0) empty.push(owner);
        for (const task of await this.#readTasks(client, members)) if (task.owner === owner) expired.push(task);
      }
      for (const owner of empty) {
        await runScript(client, FORGET_OWNER, [this.#leaseKey(owner), this.#tasksKey(owner), this.#ownersKey()], [owner]);
      }
      return expired;
    });
  }

  claim(ref: TaskRef, from: string, to: string): Promise<boolean> {
    return this.#use(async (client) => {
      const member = memberOf(ref, 'claim');
      checkOwner(from, 'claim');
      checkOwner(to, 'claim');
      const won = await runScript(
        client,
        CLAIM,
        [this.#taskKey(member), this.#leaseKey(from), this.#tasksKey(from), this.#tasksKey(to), this.#ownersKey()],
        [member, from, to, randomUUID()],
      );
      return won === 1;
    });
  }

  /**
   * Sets the lease key of `owner` with a TTL of `leaseMs`. If this store had set it before and it was
   * gone (Redis was unreachable, or the process paused, for longer than `leaseMs`), the lease is set
   * again and the call rejects to report it: other workers may have claimed the owner's tasks meanwhile.
   */
  renewLease(owner: string, leaseMs: number): Promise<void> {
    return this.#use(async (client) => {
      checkOwner(owner, 'renewLease');
      if (!(typeof leaseMs === 'number' && Number.isFinite(leaseMs) && leaseMs > 0)) throw new RangeError(`RedisStore.renewLease: leaseMs must be a number > 0, got ${String(leaseMs)}`);
      const had = await runScript(client, RENEW, [this.#leaseKey(owner)], [leaseValue(), Math.ceil(leaseMs)]);
      const renewal = this.#leases.has(owner);
      this.#leases.add(owner);
      if (renewal && had === 0) {
        throw new Error(
          `RedisStore: the lease of worker "${owner}" had expired before it was renewed (Redis unreachable or the process stalled for longer than leaseMs = ${leaseMs} ms); it is renewed now, but other workers may have claimed its tasks meanwhile`,
        );
      }
    });
  }

  releaseLease(owner: string): Promise<void> {
    return this.#use(async (client) => {
      checkOwner(owner, 'releaseLease');
      this.#leases.delete(owner);
      await runScript(client, RELEASE, [this.#leaseKey(owner), this.#tasksKey(owner), this.#ownersKey()], [owner]);
    });
  }

  /** Publishes a fleet message on the channel `<prefix>fleet` (JSON). */
  publish(message: FleetMessage): Promise<void> {
    return this.#use(async (client) => {
      if (message?.type !== 'cancelAll' || typeof message.from !== 'string') throw new TypeError('RedisStore.publish: message must be { type: "cancelAll", from: workerId }');
      await client.publish(this.#channel(), JSON.stringify({ type: message.type, from: message.from }));
    });
  }

  /**
   * Receives fleet messages on a connection of its own (pub/sub needs one), made on the first call and
   * quit when the last listener stops. Messages sent while this worker is disconnected are not replayed.
   */
  async subscribe(listener: (message: FleetMessage) => void): Promise<() => Promise<void>> {
    this.#ready();
    if (typeof listener !== 'function') throw new TypeError('RedisStore.subscribe: listener must be a function');
    const connecting = (this.#subscriber ??= this.#connectSubscriber());
    let subscriber: Redis;
    try {
      subscriber = await connecting;
    } catch (error) {
      // The next subscribe tries again instead of failing on the cached rejection.
      if (this.#subscriber === connecting) this.#subscriber = undefined;
      throw error;
    }
    this.#listeners.add(listener);
    let subscribed = true;
    return async () => {
      if (!subscribed) return;
      subscribed = false;
      this.#listeners.delete(listener);
      if (this.#listeners.size > 0 || this.#subscriber !== connecting) return;
      this.#subscriber = undefined;
      await quitQuietly(subscriber);
    };
  }

  /** Quits the connections the store made (never a client you gave it). Calling it again is harmless. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#listeners.clear();
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    const client = this.#client;
    this.#client = undefined;
    await subscriber?.then(quitQuietly, () => {});
    if (client && this.#url !== undefined) await quitQuietly(client);
  }

  async #checkGiven(client: Redis): Promise<Redis> {
    if (client.status === 'end') throw new Error(`RedisStore cannot use ${describeClient(client)}: it has been closed (quit or disconnect)`);
    try {
      if (client.status === 'wait') await client.connect();
      await client.ping();
    } catch (error) {
      throw new Error(`RedisStore cannot reach Redis through ${describeClient(client)}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    return client;
  }

  async #takeWorkerId(client: Redis, workerId: string): Promise<void> {
    const keys = [this.#leaseKey(workerId), this.#tasksKey(workerId), this.#ownersKey()];
    const args = [this.#prefix, `${workerId}~${randomBytes(4).toString('hex')}`];
    let [took, value] = (await runScript(client, OPEN, keys, args)) as [number, number];
    if (took === 1) return;
    if (value > 0) {
      // The lease is held: a predecessor that died less than a lease ago, or a live process with this id.
      await sleep(value + LEASE_RECHECK_SLACK_MS);
      [took, value] = (await runScript(client, OPEN, keys, args)) as [number, number];
      if (took === 1) return;
    }
    throw new Error(
      value === -1
        ? `RedisStore: the lease key ${this.#leaseKey(workerId)} has no expiry; delete it or choose another workerId`
        : `RedisStore: another live worker holds the lease of workerId "${workerId}" (it renews it); give each worker process its own workerId`,
    );
  }

  async #connectSubscriber(): Promise<Redis> {
    const workerId = this.#workerId ?? 'worker';
    const subscriber = this.#url !== undefined ? await connectOwn(this.#url, connectionName(workerId, 'sub')) : await connectDuplicate(this.#given!);
    const channel = this.#channel();
    subscriber.on('message', (from: string, text: string) => {
      if (from !== channel) return;
      const message = parseFleetMessage(text);
      if (!message) return;
      for (const listener of [...this.#listeners]) {
        try {
          listener(message);
        } catch {
          // A listener's throw is its own business; the others still get the message.
        }
      }
    });
    try {
      await subscriber.subscribe(channel);
    } catch (error) {
      await quitQuietly(subscriber);
      throw error;
    }
    // Listening never holds the process open (like a signal handler), whoever made the connection.
    unrefAlways(subscriber);
    if (this.#state === 'closed') {
      await quitQuietly(subscriber);
      throw new Error('RedisStore was closed while it was subscribing');
    }
    return subscriber;
  }

  async #readTasks(client: Redis, members: readonly string[]): Promise<StoredTask[]> {
    if (members.length === 0) return [];
    const hashes = (await exec(client.pipeline(members.map((member) => ['hgetall', this.#taskKey(member)])))) as Record<string, string>[];
    const tasks: StoredTask[] = [];
    for (const hash of hashes) {
      const task = parseTask(hash);
      if (task) tasks.push(task);
    }
    return tasks;
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

  #taskKey(member: string): string {
    return `${this.#prefix}task:${member}`;
  }
  #tasksKey(owner: string): string {
    return `${this.#prefix}tasks:${owner}`;
  }
  #leaseKey(owner: string): string {
    return `${this.#prefix}lease:${owner}`;
  }
  #ownersKey(): string {
    return `${this.#prefix}owners`;
  }
  #channel(): string {
    return `${this.#prefix}fleet`;
  }
}
