/**
 * Server-Sent Events over the request core: the Agent API's log stream and the Cloud API's resumable
 * task stream. eventsource-parser splits the bytes into events; this module turns each event's JSON data
 * into a typed event, reopens a dropped connection where the API can resume, and closes the connection
 * whenever the consumer stops.
 * @module
 */
import { EventSourceParserStream, ParseError, type EventSourceMessage } from 'eventsource-parser/stream';
import pRetry from 'p-retry';
import { ConnectionError, InvalidResponseError, type RequestInfo } from '../errors/classes.js';
import type { BackoffPolicy } from '../util/backoff.js';
import { sleep } from '../util/sleep.js';
import type { AgentLogEvent } from './agent-log-types.js';
import type { CloudStreamEvent } from './cloud-log-types.js';
import type { RequestCore } from './core.js';
import { resolveClientOptions, type ClientOptions } from './options.js';
import { isRetryable, retryDelay } from './policy.js';
import type { ApiDescriptor, CoreRequest } from './request-types.js';

/** The client options a stream follows when it reopens a connection, and its limit on one event. */
export interface StreamPolicy {
  readonly retries: number;
  readonly retryBackoff: BackoffPolicy;
  readonly maxRetryAfterMs: number;
  /** Longest event accepted, in characters: the client's `maxResponseBytes`. */
  readonly maxEventChars: number;
}

/** The stream policy of a client's options (the core has already refused invalid ones). */
export function streamPolicy(options: ClientOptions, api: ApiDescriptor): StreamPolicy {
  const { retries, retryBackoff, maxRetryAfterMs, maxResponseBytes } = resolveClientOptions(options, api);
  return { retries, retryBackoff, maxRetryAfterMs, maxEventChars: maxResponseBytes };
}

/** Per-stream options, as the client methods take them. */
export interface StreamCallOptions {
  readonly signal?: AbortSignal | undefined;
  readonly timeoutMs?: number | undefined;
  readonly retries?: number | undefined;
}

/** An event to hand to the consumer, and what it means for the stream. */
interface Accepted<T> {
  readonly event: T;
  /** Whether it is new information, which starts the count of failed reconnects again. */
  readonly progress: boolean;
  /** Whether the stream ends with it. */
  readonly last: boolean;
}

/** What one kind of stream makes of its connections. */
interface StreamPlan<T> {
  /** The request that opens the stream, or reopens it where it left off. */
  request(): CoreRequest;
  /** Whether a failed connection may be reopened without losing or repeating an event. */
  canReopen(): boolean;
  /** The event to deliver for one message, or `undefined` to pass over it. */
  accept(message: EventSourceMessage, source: StreamSource): Accepted<T> | undefined;
}

/** The request and the status of the connection an event came from, for the errors that name them. */
interface StreamSource extends RequestInfo {
  readonly status: number;
}

/**
 * The log stream of an agent run: every event, ending with `finish`. It cannot resume once it has
 * delivered an event. Each loop over it is a stream of its own.
 */
export function agentLogStream(
  core: RequestCore,
  policy: StreamPolicy,
  path: string,
  includeDeltas: 'true' | 'false' | undefined,
  options: StreamCallOptions,
): AsyncIterable<AgentLogEvent> {
  return { [Symbol.asyncIterator]: () => readEvents(core, policy, options, agentPlan(path, includeDeltas)) };
}

function agentPlan(path: string, includeDeltas: 'true' | 'false' | undefined): StreamPlan<AgentLogEvent> {
  let delivered = false;
  return {
    request: () => ({ method: 'GET', path, searchParams: { includeDeltas } }),
    canReopen: () => !delivered,
    accept(message, source) {
      const data = parseData(message, source);
      if (typeof data['type'] !== 'string') throw invalid(source, 'an event without a string "type"', data);
      delivered = true;
      return { event: data as AgentLogEvent, progress: true, last: data['type'] === 'finish' };
    },
  };
}

/**
 * The stream of a cloud task, ending with `complete`. A dropped connection is reopened from the next
 * log index; a log below it (one the server sends again) is passed over. Each loop over it is a stream
 * of its own, from `fromIndex`.
 */
export function cloudLogStream(
  core: RequestCore,
  policy: StreamPolicy,
  path: string,
  fromIndex: number,
  includeStatus: 'true' | 'false' | undefined,
  options: StreamCallOptions,
): AsyncIterable<CloudStreamEvent> {
  return { [Symbol.asyncIterator]: () => readEvents(core, policy, options, cloudPlan(path, fromIndex, includeStatus)) };
}

function cloudPlan(path: string, fromIndex: number, includeStatus: 'true' | 'false' | undefined): StreamPlan<CloudStreamEvent> {
  let nextIndex = fromIndex;
  return {
    request: () => ({ method: 'GET', path, searchParams: { fromIndex: nextIndex, includeStatus } }),
    canReopen: () => true,
    accept(message, source) {
      // An event without a name is a `message` event (the SSE rule), so it reaches the open member of the union.
      const name = message.event ?? 'message';
      const data = parseData(message, source);
      if (name === 'log') {
        const index = data['index'];
        if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0) {
          throw invalid(source, 'a log event without an integer "index" ≥ 0', data);
        }
        if (index < nextIndex) return undefined;
        nextIndex = index + 1;
        return { event: { event: 'log', data } as CloudStreamEvent, progress: true, last: false };
      }
      // Only a new log or the end is progress: a server that greets and drops, again and again, runs out of retries.
      const last = name === 'complete';
      return { event: { event: name, data } as CloudStreamEvent, progress: last, last };
    },
  };
}

/**
 * Delivers a plan's events one at a time. Each pull is one p-retry call: a failed connection is reopened
 * (where the plan allows) with the client's backoff, and the budget of `retries` counts the failures since
 * the last event that was progress, so a stream that keeps dropping without news ends, and one that
 * keeps delivering never runs out.
 */
async function* readEvents<T>(core: RequestCore, policy: StreamPolicy, options: StreamCallOptions, plan: StreamPlan<T>): AsyncGenerator<T, void, undefined> {
  const { signal } = options;
  const retries = options.retries ?? policy.retries;
  const connection = new Connection(core, plan, policy.maxEventChars, options);
  let failures = 0;
  try {
    for (;;) {
      const accepted = await pRetry(() => connection.next(), {
        retries: Math.max(0, retries - failures),
        // The delay is the request policy's (backoff, the server's capped hint as a floor), awaited in
        // shouldRetry like the core's; p-retry's own delay is switched off with minTimeout 0.
        minTimeout: 0,
        signal,
        shouldRetry: async ({ error }) => {
          if (!isRetryable('GET', error) || !plan.canReopen()) return false;
          await sleep(retryDelay(failures, error, policy.retryBackoff, policy.maxRetryAfterMs), signal);
          failures += 1;
          return true;
        },
      }).catch((error: unknown) => {
        // p-retry turns a non-Error abort reason into a TypeError; callers are promised `signal.reason`.
        throw signal?.aborted ? signal.reason : error;
      });
      if (accepted.progress) failures = 0;
      yield accepted.event;
      if (accepted.last) return;
    }
  } finally {
    await connection.close();
  }
}

/** The current connection of a stream: opened on demand, dropped on failure, reopened by the next pull. */
class Connection<T> {
  readonly #core: RequestCore;
  readonly #plan: StreamPlan<T>;
  readonly #maxEventChars: number;
  readonly #options: StreamCallOptions;
  #reader: ReadableStreamDefaultReader<EventSourceMessage> | undefined;
  #source: StreamSource = { method: 'GET', path: '', status: 0 };

  constructor(core: RequestCore, plan: StreamPlan<T>, maxEventChars: number, options: StreamCallOptions) {
    this.#core = core;
    this.#plan = plan;
    this.#maxEventChars = maxEventChars;
    this.#options = options;
  }

  /** The next event to deliver; rejects with a typed error when the connection fails or ends too early. */
  async next(): Promise<Accepted<T>> {
    for (;;) {
      this.#reader ??= await this.#open();
      const result = await this.#reader.read().catch((error: unknown) => {
        this.#reader = undefined;
        throw this.#readError(error);
      });
      if (result.done) {
        this.#reader = undefined;
        throw new ConnectionError(this.#source, { cause: new Error('the stream ended before its last event') });
      }
      const accepted = this.#plan.accept(result.value, this.#source);
      if (accepted) return accepted;
    }
  }

  /** Closes the connection, if one is open: the socket goes with it. */
  async close(): Promise<void> {
    const reader = this.#reader;
    this.#reader = undefined;
    // A reader whose stream has already failed rejects its cancel with that failure, reported already.
    await reader?.cancel().catch(() => undefined);
  }

  async #open(): Promise<ReadableStreamDefaultReader<EventSourceMessage>> {
    const request = this.#plan.request();
    const { signal, timeoutMs } = this.#options;
    const response = await this.#core.openStream(request, { signal, timeoutMs });
    this.#source = { ...describe(request), status: response.status };
    const contentType = response.headers.get('content-type');
    if (contentType !== null && !contentType.toLowerCase().includes('text/event-stream')) {
      await response.body?.cancel();
      throw invalid(this.#source, `expected text/event-stream, got ${contentType}`, undefined);
    }
    const body = response.body ?? new ReadableStream<Uint8Array>({ start: (controller) => controller.close() });
    return body
      .pipeThrough(new TextDecoderStream())
      .pipeThrough(new EventSourceParserStream({ maxBufferSize: this.#maxEventChars }))
      .getReader();
  }

  #readError(error: unknown): unknown {
    if (this.#options.signal?.aborted) return this.#options.signal.reason;
    if (error instanceof ParseError) return invalid(this.#source, `an event longer than ${this.#maxEventChars} characters`, undefined);
    return new ConnectionError(this.#source, { cause: error });
  }
}

/** The JSON object of an event's data, or an `InvalidResponseError` that shows the start of the line. */
function parseData(message: EventSourceMessage, source: StreamSource): Record<string, unknown> {
  let data: unknown;
  try {
    data = JSON.parse(message.data) as unknown;
  } catch {
    throw invalid(source, `event data that is not JSON: ${JSON.stringify(message.data.slice(0, 200))}`, message.data);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw invalid(source, 'event data that is not a JSON object', data);
  return data as Record<string, unknown>;
}

function invalid(source: StreamSource, what: string, body: unknown): InvalidResponseError {
  const { status, method, path } = source;
  return new InvalidResponseError(status, `${status} ${method} ${path}: ${what}`, { method, path, body });
}

function describe(request: CoreRequest): RequestInfo {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(request.searchParams ?? {})) if (value !== undefined) query.set(key, String(value));
  const search = query.size === 0 ? '' : `?${query.toString()}`;
  return { method: request.method, path: `/${request.path}${search}` };
}
