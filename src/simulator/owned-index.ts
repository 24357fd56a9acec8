/**
 * The simulator's store of runs or tasks: by ID for lookups, and by owner, oldest first, for the list
 * endpoints. Shared by the agent runs and the cloud tasks.
 * @module
 */
export class OwnedIndex<T extends { readonly userId: string }> {
  readonly #byId = new Map<string, T>();
  readonly #byUser = new Map<string, T[]>();

  add(id: string, item: T): void {
    this.#byId.set(id, item);
    const mine = this.#byUser.get(item.userId);
    if (mine) mine.push(item);
    else this.#byUser.set(item.userId, [item]);
  }

  get(id: string): T | undefined {
    return this.#byId.get(id);
  }

  ownedBy(userId: string): readonly T[] {
    return this.#byUser.get(userId) ?? [];
  }
}
