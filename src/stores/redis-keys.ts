/**
 * The Redis names of the key layout that `redis-scripts.ts` describes, under one prefix: the one place
 * that spells them, for `RedisStore` and for the read-only `readRegistry` alike.
 * @module
 */

/** The keys and the channel under one prefix; `<member>` is a ref's `<kind>:<id>`. */
export class RedisKeys {
  readonly #prefix: string;

  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  /** The prefix itself, which the scripts need to name the keys of owners they learn inside Redis. */
  get prefix(): string {
    return this.#prefix;
  }

  /** The hash of one task. */
  task(member: string): string {
    return `${this.#prefix}task:${member}`;
  }

  /** The set of the members an owner tracks. */
  tasks(owner: string): string {
    return `${this.#prefix}tasks:${owner}`;
  }

  /** The key, with a TTL, that is there while `owner` is alive. */
  lease(owner: string): string {
    return `${this.#prefix}lease:${owner}`;
  }

  /** The set of the owners that have (or had) tasks. */
  get owners(): string {
    return `${this.#prefix}owners`;
  }

  /** The pub/sub channel of fleet messages. */
  get channel(): string {
    return `${this.#prefix}fleet`;
  }
}
