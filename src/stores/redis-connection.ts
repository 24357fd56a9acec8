/**
 * The connections of `RedisStore`: URL checks (with the password kept out of every message), the
 * ioredis options of the connections the store makes itself, the check of a client the user gives,
 * and a quit that never hangs.
 * ioredis is loaded here with a dynamic import, on the first connection, never at import time.
 * @module
 */
import type { Redis, RedisOptions } from 'ioredis';

/** Checks a `redis:`/`rediss:` URL; throws a TypeError naming the option otherwise. */
export function checkRedisUrl(url: unknown): string {
  if (typeof url !== 'string' || url === '') throw new TypeError('RedisStore option `url` must be a redis:// or rediss:// URL string');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`RedisStore option \`url\` is not a valid URL: ${redactUrl(url)}`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new TypeError(`RedisStore option \`url\` must start with redis:// or rediss://, got ${redactUrl(url)}`);
  }
  return url;
}

/** The URL as it may appear in a message: any password replaced by `***`, no query string. */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Not a URL: show only what cannot be a secret.
    return url.includes('@') ? '(an unparsable URL)' : url;
  }
  const auth = parsed.password !== '' ? `${parsed.username}:***@` : parsed.username !== '' ? `${parsed.username}@` : '';
  const path = parsed.pathname === '/' ? '' : parsed.pathname;
  return `${parsed.protocol}//${auth}${parsed.host}${path}`;
}

/** Where a client given by the user points, for messages (no password: ioredis keeps it apart). */
export function describeClient(client: Redis): string {
  const { host, port, path } = client.options;
  return path ? `the Redis client on ${path}` : `the Redis client of ${host ?? 'localhost'}:${port ?? 6379}`;
}

/** The delay between reconnects once a connection has been up: 100 ms more per attempt, at most 1 s. */
export function reconnectDelay(times: number): number {
  return Math.min(100 * times, 1_000);
}

/**
 * A connection of the store's own, connected. Before it is first ready it does not retry (Redis
 * unreachable at start is an error, at once); once it has been ready it reconnects for ever, and
 * commands wait in the offline queue meanwhile (`maxRetriesPerRequest: null`) and are resent if they
 * were in flight: a Redis restart delays writes, it loses none.
 */
export async function connectOwn(url: string, connectionName: string): Promise<Redis> {
  const { Redis: RedisClient } = await import('ioredis');
  let everReady = false;
  let lastError: Error | undefined;
  const options: RedisOptions = {
    lazyConnect: true,
    connectionName,
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
    autoResendUnfulfilledCommands: true,
    keepAlive: 10_000,
    retryStrategy: (times) => (everReady ? reconnectDelay(times) : null),
    // A failover made this node a replica: reconnect (to the new primary, behind DNS) and resend.
    reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 2 : false),
  };
  const client = new RedisClient(url, options);
  // Errors of the connection are answered by retries or by the command that failed; without a listener
  // ioredis would print them.
  client.on('error', (error: Error) => {
    lastError = error;
  });
  client.once('ready', () => {
    everReady = true;
  });
  try {
    await client.connect();
  } catch (error) {
    // Not disconnect() on an ended client: ioredis would arm a 2 s timer for a socket already closed.
    if (client.status !== 'end') client.disconnect();
    const cause = lastError ?? error;
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new Error(`RedisStore cannot connect to ${redactUrl(url)}: ${reason}`, { cause });
  }
  return client;
}

/** A client given by the user, connected if it is lazy and answering a PING. */
export async function checkGiven(client: Redis): Promise<Redis> {
  if (client.status === 'end') throw new Error(`RedisStore cannot use ${describeClient(client)}: it has been closed (quit or disconnect)`);
  try {
    if (client.status === 'wait') await client.connect();
    await client.ping();
  } catch (error) {
    throw new Error(`RedisStore cannot reach Redis through ${describeClient(client)}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return client;
}

/** A connection for pub/sub made from a client of the user's (`client.duplicate()`), connected. */
export async function connectDuplicate(given: Redis): Promise<Redis> {
  const subscriber = given.duplicate();
  subscriber.on('error', () => {});
  try {
    if (subscriber.status === 'wait') await subscriber.connect();
  } catch (error) {
    if (subscriber.status !== 'end') subscriber.disconnect();
    throw new Error(`RedisStore cannot open a subscriber connection (client.duplicate()) to ${describeClient(given)}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return subscriber;
}

type Refable = { ref?(): unknown; unref?(): unknown } | undefined;

/**
 * Keeps the socket of a connection ref'd only while operations are in flight, on every socket the
 * connection makes (it makes a new one per reconnect). While Redis is unreachable, ioredis's reconnect
 * timer still holds the process open.
 */
export class LivenessGate {
  readonly #client: Redis;
  #pending = 0;

  constructor(client: Redis) {
    this.#client = client;
    client.on('connect', () => this.#apply());
    this.#apply();
  }

  async run<T>(operation: () => Promise<T>): Promise<T> {
    if (this.#pending++ === 0) this.#apply();
    try {
      return await operation();
    } finally {
      if (--this.#pending === 0) this.#apply();
    }
  }

  #apply(): void {
    const stream = this.#client.stream as Refable;
    if (this.#pending > 0) stream?.ref?.();
    else stream?.unref?.();
  }
}

/** A connection whose sockets never hold the process open. */
export function unrefAlways(client: Redis): void {
  const unref = (): void => void (client.stream as Refable)?.unref?.();
  client.on('connect', unref);
  unref();
}

/** Ends a connection: QUIT when it is up (bounded by `timeoutMs`), then a hard disconnect. */
export async function quitQuietly(client: Redis, timeoutMs = 1_000): Promise<void> {
  // Whoever awaits the quit must not see the process end under it (the socket may be unref'd).
  (client.stream as Refable)?.ref?.();
  if (client.status === 'ready') {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
      timer.unref();
    });
    await Promise.race([client.quit().catch(() => {}), timeout]);
    clearTimeout(timer);
  }
  if (client.status !== 'end') client.disconnect();
}
