import type { TaskRef } from '../refs.js';
import type { StoredIntent, StoredTask, StoredTaskPatch, TaskStore } from '../stores/types.js';
import { BlackboxError, StoreError } from '../errors/classes.js';
import type { Clock } from './clock.js';

/** Store failures reach users as a typed `StoreError` (its message first, the original as `cause`). */
function asStoreError(error: unknown, context: string): BlackboxError {
  if (error instanceof BlackboxError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new StoreError(`${context}: ${detail}`, { cause: error });
}

/**
 * The manager's write-through to its store. Writes of one task are chained so they reach the store in
 * order; a failed write is reported (never thrown) and later writes still go. The lease heartbeat runs
 * only for stores that have leases, on an unref'd timer: the scheduler, not the registry, is what keeps
 * the process alive while tasks are tracked.
 */
export class Registry {
  readonly store: TaskStore;
  readonly workerId: string;
  readonly ready: Promise<void>;
  /** Whether the store opened: every write waits for it, and none is sent to a store that failed to open. */
  readonly #opened: Promise<boolean>;
  readonly #clock: Clock;
  readonly #onError: (error: unknown, ref?: TaskRef) => void;
  readonly #chains = new Map<string, Promise<void>>();
  readonly #leaseMs: number;
  #heartbeat: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(store: TaskStore, workerId: string, leaseMs: number, clock: Clock, onError: (error: unknown, ref?: TaskRef) => void) {
    this.store = store;
    this.workerId = workerId;
    this.#leaseMs = leaseMs;
    this.#clock = clock;
    this.#onError = onError;
    this.ready = this.#open().catch((error: unknown) => {
      throw asStoreError(error, `the store could not be opened for worker ${workerId}`);
    });
    // A failed open is reported once, here; the writes are then skipped, not each reported again.
    this.#opened = this.ready.then(
      () => true,
      (error: unknown) => {
        onError(error);
        return false;
      },
    );
  }

  /** Whether the store only lives in this process (nothing to recover, no lease): it says so itself. */
  get inMemory(): boolean {
    return this.store.durable === false;
  }

  /** `key` is the ref's `kind:id`, which the caller already has. */
  add(ref: TaskRef, key: string, deadline: number | undefined): void {
    const task: StoredTask = { kind: ref.kind, id: ref.id, owner: this.workerId, deadline: deadline ?? null, status: null, trackedAt: this.#clock.now() };
    this.#write(ref, key, () => this.store.add(task));
  }

  /**
   * Records the intent of a create before it is sent; resolves once the store has it (or reported
   * failing to take it: a store outage must not stop a create).
   */
  addIntent(ref: TaskRef, intent: StoredIntent, deadline: number | undefined): Promise<void> {
    const task: StoredTask = { kind: ref.kind, id: ref.id, owner: this.workerId, deadline: deadline ?? null, status: null, trackedAt: this.#clock.now(), intent };
    return this.#write(ref, `${ref.kind}:${ref.id}`, () => this.store.add(task));
  }

  update(ref: TaskRef, key: string, patch: StoredTaskPatch): void {
    this.#write(ref, key, () => this.store.update(ref, patch));
  }

  remove(ref: TaskRef, key: string): void {
    this.#write(ref, key, () => this.store.remove(ref));
  }

  /** Resolves when every write issued so far has reached the store (or failed). */
  async flush(): Promise<void> {
    await Promise.all([this.#opened, ...this.#chains.values()]);
  }

  /** Stops the heartbeat, waits for the writes, ends the lease and closes the store. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#heartbeat) clearTimeout(this.#heartbeat);
    // Writes wait while a store is down (a Redis restart); closing must not wait for ever on them.
    // After a lease's length the store is closed anyway and the writes still queued fail, reported.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.flush(), new Promise((resolve) => (timer = setTimeout(resolve, this.#leaseMs).unref()))]);
    clearTimeout(timer);
    if (!(await this.#opened)) return;
    await this.store.releaseLease(this.workerId).catch((error: unknown) => this.#onError(error));
    await this.store.close().catch((error: unknown) => this.#onError(error));
  }

  async #open(): Promise<void> {
    await this.store.open(this.workerId);
    if (this.inMemory) return;
    await this.store.renewLease(this.workerId, this.#leaseMs);
    this.#scheduleHeartbeat();
  }

  #scheduleHeartbeat(): void {
    if (this.#closed) return;
    this.#heartbeat = setTimeout(() => {
      this.store
        .renewLease(this.workerId, this.#leaseMs)
        .catch((error: unknown) => this.#onError(asStoreError(error, `the lease of ${this.workerId} could not be renewed`)))
        .finally(() => this.#scheduleHeartbeat());
    }, this.#leaseMs / 3);
    this.#heartbeat.unref();
  }

  #write(ref: TaskRef, key: string, write: () => Promise<void>): Promise<void> {
    const previous = this.#chains.get(key) ?? this.#opened;
    const next = Promise.all([previous, this.#opened])
      .then(async ([, opened]) => {
        if (opened) await write();
      })
      .catch((error: unknown) => this.#onError(asStoreError(error, `a store write for ${key} failed`), ref))
      .finally(() => {
        if (this.#chains.get(key) === next) this.#chains.delete(key);
      });
    this.#chains.set(key, next);
    return next;
  }
}
