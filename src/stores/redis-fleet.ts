/**
 * The fleet messages of `RedisStore` over pub/sub: publishing on the command connection, and receiving
 * on a connection of their own (a subscribed connection can run no other command), made for the first
 * listener and quit after the last.
 * @module
 */
import type { Redis } from 'ioredis';
import { quitQuietly, unrefAlways } from './redis-connection.js';
import { parseFleetMessage } from './redis-records.js';
import type { FleetMessage } from './types.js';

/** The listeners of one store and the subscriber connection they share. */
export class FleetChannel {
  readonly #channel: string;
  readonly #connect: () => Promise<Redis>;
  readonly #listeners = new Set<(message: FleetMessage) => void>();
  #subscriber: Promise<Redis> | undefined;
  #closed = false;

  /** `connect` makes the subscriber connection; nothing connects before the first `subscribe`. */
  constructor(channel: string, connect: () => Promise<Redis>) {
    this.#channel = channel;
    this.#connect = connect;
  }

  /** Publishes a fleet message (JSON) on the command connection `client`. */
  async publish(client: Redis, message: FleetMessage): Promise<void> {
    if (message?.type !== 'cancelAll' || typeof message.from !== 'string') throw new TypeError('RedisStore.publish: message must be { type: "cancelAll", from: workerId }');
    await client.publish(this.#channel, JSON.stringify({ type: message.type, from: message.from }));
  }

  /** Adds a listener once the subscriber connection is up; resolves with the function that removes it. */
  async subscribe(listener: (message: FleetMessage) => void): Promise<() => Promise<void>> {
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

  /** Drops every listener and quits the subscriber connection, also one still connecting. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    await subscriber?.then(quitQuietly, () => {});
  }

  async #connectSubscriber(): Promise<Redis> {
    const subscriber = await this.#connect();
    const channel = this.#channel;
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
    if (this.#closed) {
      await quitQuietly(subscriber);
      throw new Error('RedisStore was closed while it was subscribing');
    }
    return subscriber;
  }
}
