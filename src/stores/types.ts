import type { TaskRef } from '../refs.js';

/** One tracked task as a registry store keeps it. */
export interface StoredTask {
  /** The task's kind (`agent`, `cloud` or a custom backend's). */
  readonly kind: string;
  /** The task's ID. */
  readonly id: string;
  /** The `workerId` of the manager that tracks it. */
  readonly owner: string;
  /** Deadline in milliseconds since the epoch, or `null`: it holds across a crash. */
  readonly deadline: number | null;
  /** The last raw status seen, or `null`. */
  readonly status: string | null;
  /** When tracking began, in milliseconds since the epoch. */
  readonly trackedAt: number;
  /**
   * Present on an **intent**: a create that `start()` is sending, recorded before the request leaves so
   * that a crash between the request and its answer leaves a trace `recover()` can reconcile. Its `id`
   * is a placeholder (it starts with `~`) until the create answers and the record of the real task
   * replaces it.
   */
  readonly intent?: StoredIntent;
}

/** What an intent remembers of its create: enough to find the task again, never the prompt itself. */
export interface StoredIntent {
  /** SHA-256 (hex) of the prompt, to match the tasks a list shows. */
  readonly fingerprint: string;
  /** When the create request left, in milliseconds since the epoch. */
  readonly sentAt: number;
}

/** The fields of a stored task that change while it is tracked. */
export type StoredTaskPatch = Partial<Pick<StoredTask, 'owner' | 'deadline' | 'status'>>;

/**
 * A fleet-wide message, for stores that connect several workers (`RedisStore`).
 * @property type What to do: `cancelAll`, every worker cancels all of its tasks.
 * @property from The `workerId` of the sender, which does not act on its own message.
 */
export type FleetMessage = { readonly type: 'cancelAll'; readonly from: string };

/**
 * Where a manager's tracked set lives. The manager keeps its in-memory scheduler as the fast path and
 * writes through the store (add on track, update on a status or deadline change, remove on settle), so
 * that another process can find the tasks of a worker that died (`listExpired`, `claim`).
 *
 * Writes of one task reach the store in order; a store must not reorder them. Built in:
 * {@link MemoryStore}, {@link FileStore}, {@link RedisStore}; each manager needs a store of its own.
 *
 * @example
 * ```ts
 * import { AgentClient, FileStore, MemoryStore, RedisStore, TaskManager, type TaskStore } from 'taskguard';
 *
 * const { REDIS_URL, NODE_ENV } = process.env;
 * const store: TaskStore = REDIS_URL
 *   ? new RedisStore({ url: REDIS_URL }) // a fleet of workers sharing one registry
 *   : NODE_ENV === 'production'
 *     ? new FileStore({ path: '/var/lib/app/tasks.jsonl' }) // one worker, durable across a crash
 *     : new MemoryStore(); // tests and scripts
 * const manager = new TaskManager({ agent: new AgentClient(), store });
 * await manager.recover({ policy: 'cancel' }); // what a crashed predecessor left running
 * ```
 */
export interface TaskStore {
  /**
   * Whether the tracked set outlives this process. A store that says `false` (the `MemoryStore`) gets
   * no leases and no intents: there is nothing another process could recover.
   * @default true
   */
  readonly durable?: boolean;
  /** Opens the store for `workerId` (locks, connections). Called once by the manager before any write. */
  open(workerId: string): Promise<void>;
  /** Records a task; replaces a record of the same ref. */
  add(task: StoredTask): Promise<void>;
  /** Changes status, deadline or owner of a record; a missing record is ignored. */
  update(ref: TaskRef, patch: StoredTaskPatch): Promise<void>;
  /** Forgets a task. */
  remove(ref: TaskRef): Promise<void>;
  /** The records of one owner. */
  listByOwner(owner: string): Promise<StoredTask[]>;
  /** Records whose owner is gone: its lease expired, or its process died. Never the caller's own. */
  listExpired(self: string): Promise<StoredTask[]>;
  /**
   * Moves a record from `from` to `to` if it still belongs to `from` and `from` is still gone: atomic,
   * so that two workers never both claim one task. Resolves with whether this call won it.
   */
  claim(ref: TaskRef, from: string, to: string): Promise<boolean>;
  /** Renews the lease of `owner` for `leaseMs`. */
  renewLease(owner: string, leaseMs: number): Promise<void>;
  /** Ends the lease of `owner` at once (a clean exit). */
  releaseLease(owner: string): Promise<void>;
  /** Sends a message to every live worker (fleet stores only). */
  publish?(message: FleetMessage): Promise<void>;
  /** Receives fleet messages; resolves with the function that stops receiving. */
  subscribe?(listener: (message: FleetMessage) => void): Promise<() => Promise<void>>;
  /** Releases locks and connections. */
  close(): Promise<void>;
}
