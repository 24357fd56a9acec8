import ky, { type KyInstance } from 'ky';
import pRetry from 'p-retry';
import { ApiError, BlackboxError, ConnectionError, RequestTimeoutError, type RequestInfo } from '../errors/classes.js';
import { onAbort, raceAbort } from '../util/abort-hub.js';
import { sleep } from '../util/sleep.js';
import { createRequestTelemetry, type ApiOperation, type RequestTelemetry } from '../telemetry/request-telemetry.js';
import { isRetryable, mayHaveBeenApplied, retryDelay } from './policy.js';
import { resolveClientOptions, type ClientOptions, type ResolvedClientOptions } from './options.js';
import type { ApiDescriptor, CoreRequest, RequestOptions } from './request-types.js';
import { failureOf, parseSuccess, readBody } from './response-body.js';

/** What an attempt hands to the hook that sends it, as ky's `context` (a record: a type literal, not an interface). */
type AttemptContext = { readonly signal: AbortSignal };

/**
 * The one HTTP core under both clients: ky for the request, p-retry for the retries, the error factory
 * for every failure. It holds the key in a private field, so neither `util.inspect` nor an error sees it.
 */
export class RequestCore {
  readonly #options: ResolvedClientOptions;
  readonly #ky: KyInstance;
  readonly #telemetry: RequestTelemetry;

  constructor(options: ClientOptions, api: ApiDescriptor) {
    this.#options = resolveClientOptions(options, api);
    this.#telemetry = createRequestTelemetry(api.kind);
    const send = this.#options.fetch;
    const authorization = `Bearer ${this.#options.apiKey}`;
    this.#ky = ky.create({
      prefixUrl: this.#options.baseUrl,
      // Retries belong to p-retry and the attempt timeout to #attempt (ky's covers the headers only).
      retry: 0,
      timeout: false,
      throwHttpErrors: false,
      // A redirect could carry the key to another host: never follow one.
      redirect: 'manual',
      hooks: {
        // ky's own way to send costs, per call, what buys nothing here (docs/performance.md): default
        // headers merged into the call's options, its Request built on the attempt's signal joined to
        // ky's own with AbortSignal.any, and that Request cloned for retries ky never makes (retries are
        // p-retry's). So this hook sets the headers on the Request ky built and sends it with fetch: the
        // attempt's signal as `init.signal` (a `fetch` passed in must honour it, as fetch does), the body
        // as the string ky made of the JSON (taken from the Request, it would be piped through a stream
        // of fetch's own). The Response goes back to ky: its documented way to skip sending.
        beforeRequest: [
          (request, options) => {
            request.headers.set('authorization', authorization);
            if (!request.headers.has('accept')) request.headers.set('accept', 'application/json');
            return send(request, { signal: (options.context as AttemptContext).signal, body: options.body ?? null });
          },
        ],
      },
      // ky sends on its own only when the hook's answer is not a Response: a second send, refused.
      fetch: () => Promise.reject(new TypeError('fetch must resolve to a Response')),
    });
  }

  /** The base URL requests go to. */
  get baseUrl(): string {
    return this.#options.baseUrl;
  }

  /** The cap on a `Retry-After` wait, in milliseconds (the client's `maxRetryAfterMs`). */
  get maxRetryAfterMs(): number {
    return this.#options.maxRetryAfterMs;
  }

  /**
   * Sends the request under the request policy (`policy.ts`): retried while the policy allows and the
   * call's budget lasts; resolves with the parsed JSON body.
   */
  async request<T>(request: CoreRequest & { readonly operation: ApiOperation }, options: RequestOptions = {}): Promise<T> {
    const { signal } = options;
    signal?.throwIfAborted();
    const timeoutMs = options.timeoutMs ?? this.#options.timeoutMs;
    const budgetEnd = Date.now() + (options.maxRetryTimeMs ?? this.#options.maxRetryTimeMs);
    const run = options.runAttempt ?? runNow;
    const target = targetOf(request);
    // The attempt's timer starts when it gets its slot; it never runs past the call's budget. A call
    // aborted while it waits for its slot rejects at once, and gives the slot back unsent.
    const attempt = (): Promise<T> => {
      const sending = run(() => {
        signal?.throwIfAborted();
        return this.#attempt<T>(request, target, Math.max(1, Math.min(timeoutMs, budgetEnd - Date.now())), signal);
      });
      return signal ? raceAbort(sending, signal) : sending;
    };
    try {
      return await attempt();
    } catch (error) {
      return this.#retry(request.method, attempt, error, options.retries ?? this.#options.retries, budgetEnd, signal);
    }
  }

  /**
   * What follows a failed first attempt. p-retry comes in only then, so that a first success (the usual
   * case) costs none of its work, and it is handed that failure as its own first attempt, so that every
   * failure goes through the same policy.
   */
  async #retry<T>(method: CoreRequest['method'], attempt: () => Promise<T>, first: unknown, retries: number, budgetEnd: number, signal: AbortSignal | undefined): Promise<T> {
    const { retryBackoff, maxRetryAfterMs } = this.#options;
    try {
      return await pRetry((attemptNumber) => (attemptNumber === 1 ? Promise.reject(first) : attempt()), {
        retries,
        // The delay is the policy's (backoff with the server's capped hint), awaited in shouldRetry,
        // which p-retry calls only while retries remain; its own delay is switched off with minTimeout 0.
        minTimeout: 0,
        signal,
        shouldRetry: async ({ error, attemptNumber }) => {
          if (!isRetryable(method, error)) return false;
          const delay = retryDelay(attemptNumber - 1, error, retryBackoff, maxRetryAfterMs);
          if (Date.now() + delay >= budgetEnd) return false;
          await sleep(delay, signal);
          return true;
        },
      });
    } catch (error) {
      // p-retry turns a non-Error abort reason into a TypeError; callers are promised `signal.reason`.
      if (signal?.aborted) throw signal.reason;
      if (mayHaveBeenApplied(method, error)) markMayHaveBeenApplied(error as BlackboxError);
      throw error;
    }
  }

  /** One attempt, counted and timed as one request of its operation: a retry is another request. */
  async #attempt<T>(request: CoreRequest & { readonly operation: ApiOperation }, target: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<T> {
    const end = this.#telemetry.start(request.operation);
    const info = (): RequestInfo => ({ method: request.method, path: `/${target}` });
    // One controller per attempt, aborted by the timeout or by the caller's signal (through the abort
    // hub: one listener on the caller's signal, however many requests share it).
    const attempt = new AbortController();
    const off = signal ? onAbort(signal, () => attempt.abort(signal.reason)) : runNothing;
    const timer = setTimeout(() => attempt.abort(), timeoutMs);
    let status: number | undefined;
    try {
      const context: AttemptContext = { signal: attempt.signal };
      const response = await this.#ky(target, request.json === undefined ? { method: request.method, context } : { method: request.method, json: request.json, context });
      status = response.status;
      const bodyText = this.#redact(await readBody(response, this.#options.maxResponseBytes, info));
      if (!response.ok) throw failureOf(response, bodyText, info());
      const value = parseSuccess<T>(response, bodyText, info);
      end({ status });
      return value;
    } catch (caught) {
      const error = signal?.aborted
        ? (signal.reason as unknown)
        : caught instanceof BlackboxError
          ? caught
          : attempt.signal.aborted
            ? new RequestTimeoutError({ ...info(), timeoutMs })
            : new ConnectionError(info(), { cause: caught });
      end({ status, error });
      throw error;
    } finally {
      clearTimeout(timer);
      off();
    }
  }

  /** A server that echoes the request must not put the key into an error body. */
  #redact(text: string): string {
    return text.includes(this.#options.apiKey) ? text.replaceAll(this.#options.apiKey, '[redacted]') : text;
  }

  /**
   * Opens a streaming answer (Server-Sent Events): one attempt, no retry (a stream's reader resumes on
   * its own terms). The attempt timer covers the headers only; the body is the caller's to read or
   * cancel, and the caller's `signal` closes it. A non-2xx answer is read (bounded) and mapped by the
   * error factory like any other.
   */
  async openStream(request: CoreRequest, options: Pick<RequestOptions, 'signal' | 'timeoutMs'> = {}): Promise<Response> {
    options.signal?.throwIfAborted();
    const end = this.#telemetry.start(request.operation ?? 'stream');
    try {
      const response = await this.#openStream(request, options);
      end({ status: response.status });
      return response;
    } catch (error) {
      end({ status: error instanceof ApiError ? error.status : undefined, error });
      throw error;
    }
  }

  async #openStream(request: CoreRequest, options: Pick<RequestOptions, 'signal' | 'timeoutMs'>): Promise<Response> {
    const { signal } = options;
    const timeoutMs = options.timeoutMs ?? this.#options.timeoutMs;
    const target = targetOf(request);
    const info = (): RequestInfo => ({ method: request.method, path: `/${target}` });
    const attempt = new AbortController();
    const off = signal ? onAbort(signal, () => attempt.abort(signal.reason)) : runNothing;
    const timer = setTimeout(() => attempt.abort(), timeoutMs);
    let response: Response;
    try {
      const context: AttemptContext = { signal: attempt.signal };
      response = await this.#ky(target, { method: request.method, headers: { accept: 'text/event-stream' }, context });
    } catch (error) {
      off();
      if (signal?.aborted) throw signal.reason;
      if (attempt.signal.aborted) throw new RequestTimeoutError({ ...info(), timeoutMs });
      throw new ConnectionError(info(), { cause: error });
    } finally {
      clearTimeout(timer);
    }
    if (response.ok) {
      if (!response.body) {
        off();
        return response;
      }
      // The abort forwarding lasts while the body is read, so that an abort closes the socket, and goes
      // however the body finishes: read to its end, failed, or cancelled by the reader.
      const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
      response.body.pipeTo(writable, { signal: attempt.signal }).then(off, off);
      return new Response(readable, response);
    }
    try {
      const bodyText = this.#redact(await readBody(response, this.#options.maxResponseBytes, info));
      throw failureOf(response, bodyText, info());
    } finally {
      off();
    }
  }
}

function runNow<T>(attempt: () => Promise<T>): Promise<T> {
  return attempt();
}

function runNothing(): void {}

/** The message says it too: a log line must tell the reader that the task may exist. */
function markMayHaveBeenApplied(error: BlackboxError): void {
  error.mayHaveBeenApplied = true;
  error.message += ' (the request may have been applied: the server may have acted on it before the answer was lost)';
}

/**
 * The path with its query string. ky is given the query in the path: its `searchParams` option makes it
 * build the `Request` a second time, and the query is the same (`URLSearchParams` encodes both).
 */
function targetOf(request: CoreRequest): string {
  if (!request.searchParams) return request.path;
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(request.searchParams)) if (value !== undefined) query.append(key, String(value));
  return query.size === 0 ? request.path : `${request.path}?${query.toString()}`;
}
