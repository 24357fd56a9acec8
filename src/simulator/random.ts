/**
 * The simulator's seedable randomness. Every random decision (which request fails, which ID a task gets)
 * is drawn from a {@link Random} seeded from the simulator's `seed`, so a failing run replays exactly.
 * @module
 */

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';

/** A mulberry32 generator: tiny, fast, and good enough for fault dice and test IDs (not for secrets). */
export class Random {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /**
   * A generator for one named thing (a run's event script), drawn from the seed and the name alone: it
   * replays the same whatever else was drawn before, and drawing from it shifts no other stream.
   */
  static forKey(seed: number, key: string): Random {
    let hash = 0x811c9dc5; // FNV-1a
    for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
    return new Random(seed ^ hash);
  }

  /** The next 32-bit unsigned integer. */
  uint32(): number {
    this.#state = (this.#state + 0x6d2b79f5) | 0;
    let t = Math.imul(this.#state ^ (this.#state >>> 15), 1 | this.#state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** The next float in [0, 1). */
  next(): number {
    return this.uint32() / 0x1_0000_0000;
  }

  /** A version-4 UUID, the shape of the Agent API's IDs. */
  uuid(): string {
    const hex = [this.uint32(), this.uint32(), this.uint32(), this.uint32()].map((n) => n.toString(16).padStart(8, '0')).join('');
    const variant = ((Number.parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }

  /** One of `items`, which must not be empty. */
  pick<T>(items: readonly T[]): T {
    return items[this.uint32() % items.length] as T;
  }

  /** An integer from `min` to `max`, both included. */
  int(min: number, max: number): number {
    return min + (this.uint32() % (max - min + 1));
  }

  /** A nanoid-like ID of 21 characters from `[A-Za-z0-9_-]`, the shape of the Cloud API's IDs. */
  nanoid(): string {
    let id = '';
    for (let i = 0; i < 21; i++) id += ID_ALPHABET.charAt(this.uint32() & 63);
    return id;
  }
}
