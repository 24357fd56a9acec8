import { refKey, type TaskRef } from '../refs.js';
import type { StoredTask, StoredTaskPatch, TaskStore } from './types.js';

/**
 * The default store: the tracked set in this process's memory, nothing durable. It never has expired
 * tasks (when the process dies, so does the registry), and costs a Map write per change.
 *
 * @example
 * ```ts
 * import { AgentClient, MemoryStore, TaskManager } from 'taskguard';
 *
 * // The same as passing no store: nothing survives the process, so recover() never finds anything.
 * const manager = new TaskManager({ agent: new AgentClient(), store: new MemoryStore() });
 * const { claimed } = await manager.recover({ policy: 'cancel' });
 * console.log(claimed.length); // 0
 * ```
 */
export class MemoryStore implements TaskStore {
  /** Nothing outlives the process: no leases, no intents. */
  readonly durable = false;
  readonly #tasks = new Map<string, StoredTask>();

  async open(): Promise<void> {}

  async add(task: StoredTask): Promise<void> {
    this.#tasks.set(refKey(task), task);
  }

  async update(ref: TaskRef, patch: StoredTaskPatch): Promise<void> {
    const key = refKey(ref);
    const task = this.#tasks.get(key);
    if (task) this.#tasks.set(key, { ...task, ...patch });
  }

  async remove(ref: TaskRef): Promise<void> {
    this.#tasks.delete(refKey(ref));
  }

  async listByOwner(owner: string): Promise<StoredTask[]> {
    return [...this.#tasks.values()].filter((task) => task.owner === owner);
  }

  async listExpired(): Promise<StoredTask[]> {
    return [];
  }

  async claim(): Promise<boolean> {
    return false;
  }

  async renewLease(): Promise<void> {}

  async releaseLease(): Promise<void> {}

  async close(): Promise<void> {
    this.#tasks.clear();
  }
}
