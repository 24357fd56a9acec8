/**
 * What passes between the clients and the request core: the options every client method takes, the
 * description of one API call, and of the API a core talks to. Apart from the core, so that the option
 * resolution (which the core imports) can name them without an import cycle.
 * @module
 */
import type { ApiOperation } from '../telemetry/request-telemetry.js';

/** Options every client method takes as its last argument. */
export interface RequestOptions {
  /** Aborts the request (and its retries); the call rejects with `signal.reason`. */
  readonly signal?: AbortSignal | undefined;
  /** Overrides the client's `timeoutMs` for this call: the limit of one attempt, in milliseconds. */
  readonly timeoutMs?: number | undefined;
  /** Overrides the client's `retries` for this call. */
  readonly retries?: number | undefined;
  /** Overrides the client's `maxRetryTimeMs` for this call: its budget, retries and waits included. */
  readonly maxRetryTimeMs?: number | undefined;
  /**
   * Runs each attempt, e.g. inside a concurrency limiter's slot (`p-limit`). The waits between attempts
   * (backoff, `Retry-After`) happen outside it, so a request waiting to retry holds no slot.
   * @default each attempt runs at once
   */
  readonly runAttempt?: (<T>(attempt: () => Promise<T>) => Promise<T>) | undefined;
}

/** One API call, as the clients describe it to the core. */
export interface CoreRequest {
  readonly method: 'GET' | 'POST' | 'PATCH';
  /** Path relative to the base URL, with path IDs already encoded, no leading slash. */
  readonly path: string;
  readonly json?: unknown;
  readonly searchParams?: Readonly<Record<string, string | number | undefined>>;
  /** What the request does, as telemetry names it; a stream's is `stream`. */
  readonly operation?: ApiOperation;
}

/** Which API a core talks to: it names the key's environment variable and the default base URL. */
export interface ApiDescriptor {
  readonly name: string;
  readonly envVar: string;
  readonly defaultBaseUrl: string;
  /** The kind of task the API serves (`agent`, `cloud`): the `taskguard.kind` of its requests. */
  readonly kind: string;
}
