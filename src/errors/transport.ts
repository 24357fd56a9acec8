import { BlackboxError, type RequestInfo } from './base.js';

/**
 * The request never got an answer: refused, reset, DNS failure. `cause` holds the network error.
 *
 * @example
 * ```ts
 * import { AgentClient, ConnectionError } from 'taskguard';
 *
 * try {
 *   await new AgentClient().listTasks();
 * } catch (error) {
 *   if (!(error instanceof ConnectionError)) throw error;
 *   console.error(`no answer to ${error.method} ${error.path}`, error.cause);
 * }
 * ```
 */
export class ConnectionError extends BlackboxError {
  /** Always `'ConnectionError'`: the class name, as stack traces and logs show it. */
  override name = 'ConnectionError';
  /** HTTP method of the request. */
  readonly method: string;
  /** Path of the request. */
  readonly path: string;

  /** `info` names the request that failed; `options.cause` is the network error. */
  constructor(info: RequestInfo, options?: { readonly cause?: unknown; readonly message?: string }) {
    super(options?.message ?? `Connection failed: ${info.method} ${info.path}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.method = info.method;
    this.path = info.path;
  }
}

/**
 * No complete answer arrived within `timeoutMs` (the headers and the body together): a kind of
 * {@link ConnectionError}, so one `instanceof ConnectionError` catches both.
 *
 * @example
 * ```ts
 * import { CloudClient, RequestTimeoutError } from 'taskguard';
 *
 * try {
 *   await new CloudClient().getStatus('9qQe2F8Z_nXx9-eJA0BD6', { timeoutMs: 5_000, retries: 0 });
 * } catch (error) {
 *   if (!(error instanceof RequestTimeoutError)) throw error;
 *   console.warn(`no answer within ${error.timeoutMs} ms`);
 * }
 * ```
 */
export class RequestTimeoutError extends ConnectionError {
  /** Always `'RequestTimeoutError'`: the class name, as stack traces and logs show it. */
  override name = 'RequestTimeoutError' as const;
  /** The limit that was exceeded, in milliseconds. */
  readonly timeoutMs: number;

  /** `info` names the request and the limit it exceeded. */
  constructor(info: RequestInfo & { readonly timeoutMs: number }) {
    super(info, { message: `Request timed out after ${info.timeoutMs} ms: ${info.method} ${info.path}` });
    this.timeoutMs = info.timeoutMs;
  }
}
