import { refKey, type TaskRef } from '../refs.js';
import type { StoredTask, StoredTaskPatch, TaskStore } from './types.js';

/**
 * The default store: the tracked set in this process's memory, nothing durable. It never has expired
 * tasks (when the process dies, so does the registry), and costs a Map write per change.
 */
export class MemoryStore implements TaskStore {
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
