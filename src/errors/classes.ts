import type { TaskRef } from '../refs.js';

/** Where an API error came from: never headers, never the key. */
export interface RequestInfo {
  /** HTTP method, upper case. */
  readonly method: string;
  /** Path of the request, relative to the base URL, with its query. */
  readonly path: string;
}

/**
 * The root of every error taskguard throws or reports: `instanceof BlackboxError` tells them apart from
 * everything else (your own errors, a `TypeError` of a bad option, an abort reason).
 *
 * @example
 * ```ts
 * import { AgentClient, BlackboxError } from 'taskguard';
 *
 * try {
 *   await new AgentClient().listTasks({ limit: 10 });
 * } catch (error) {
 *   if (!(error instanceof BlackboxError)) throw error;
 *   console.error(`${error.name}: ${error.message}`); // never contains the API key
 * }
 * ```
 */
export class BlackboxError extends Error {
  /** Always `'BlackboxError'`: the class name, as stack traces and logs show it. */
  override name = 'BlackboxError';
  /**
   * True on the error of a create or continue (POST) that failed after its request may have reached
   * the server (a reset after sending, a timeout, a 5xx, a proxy's HTML page): the task may exist.
   * Such a request is never retried blindly; `TaskManager.start()` looks the task up instead.
   */
  mayHaveBeenApplied = false;
}

/** Options of an {@link ApiError}. */
export interface ApiErrorOptions extends RequestInfo {
  /** The parsed JSON body, or the raw text when it was not JSON. */
  readonly body: unknown;
  /** The underlying error, if any. */
  readonly cause?: unknown;
  /** The server's `Retry-After`, in milliseconds, if it sent one. */
  readonly retryAfterMs?: number | undefined;
}

/**
 * The API answered with a status that is not a success. Use {@link errorFromResponse} to build one.
 * Statuses without a subclass of their own (405, 408, 409, 413, 422, …) are plain `ApiError`s.
 *
 * @example
 * ```ts
 * import { ApiError, CloudClient } from 'taskguard';
 *
 * try {
 *   await new CloudClient().getTask('9qQe2F8Z_nXx9-eJA0BD6');
 * } catch (error) {
 *   if (!(error instanceof ApiError)) throw error;
 *   console.error(error.status, error.method, error.path, error.body); // e.g. 404 GET /api/tasks/… {…}
 * }
 * ```
 */
export class ApiError extends BlackboxError {
  /** Always `'ApiError'`: the class name, as stack traces and logs show it. */
  override name = 'ApiError';
  /** HTTP status code. */
  readonly status: number;
  /** The parsed JSON body, or the raw text when it was not JSON. */
  readonly body: unknown;
  /** HTTP method of the request. */
  readonly method: string;
  /** Path of the request (relative to the base URL). */
  readonly path: string;
  /** How long the server asked to wait, in milliseconds (`Retry-After`), when it did: 429s and often 503s. */
  readonly retryAfterMs: number | undefined;

  /**
   * Builds an error of the given HTTP `status` by hand (a custom backend, a test); to pick the right
   * subclass from a status and a body, use {@link errorFromResponse}.
   */
  constructor(status: number, message: string, options: ApiErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = status;
    this.body = options.body;
    this.method = options.method;
    this.path = options.path;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * 400: the request was refused, e.g. invalid JSON, no valid action, or a cloud task not in progress.
 *
 * @example
 * ```ts
 * import { BadRequestError, CloudClient } from 'taskguard';
 *
 * try {
 *   await new CloudClient().stop('9qQe2F8Z_nXx9-eJA0BD6');
 * } catch (error) {
 *   if (!(error instanceof BadRequestError)) throw error;
 *   console.warn(`not stopped: ${error.message}`); // the task is still pending, or has already ended
 * }
 * ```
 */
export class BadRequestError extends ApiError {
  /** Always `'BadRequestError'`: the class name, as stack traces and logs show it. */
  override name = 'BadRequestError';
}

/**
 * 401: the API key is missing or invalid.
 *
 * @example
 * ```ts
 * import { AgentClient, AuthenticationError } from 'taskguard';
 *
 * try {
 *   await new AgentClient().listTasks({ limit: 1 });
 * } catch (error) {
 *   if (!(error instanceof AuthenticationError)) throw error;
 *   console.error('BLACKBOX_API_KEY is wrong or revoked'); // the message never shows the key
 * }
 * ```
 */
export class AuthenticationError extends ApiError {
  /** Always `'AuthenticationError'`: the class name, as stack traces and logs show it. */
  override name = 'AuthenticationError';
}

/**
 * 403: the run belongs to another user.
 *
 * @example
 * ```ts
 * import { AgentClient, PermissionDeniedError } from 'taskguard';
 *
 * const runId = '3f1c2a9e-8b7d-4c55-9e0f-2a1b3c4d5e6f';
 * try {
 *   await new AgentClient().cancel(runId);
 * } catch (error) {
 *   if (!(error instanceof PermissionDeniedError)) throw error;
 *   console.error(`run ${runId} belongs to the user of another key`);
 * }
 * ```
 */
export class PermissionDeniedError extends ApiError {
  /** Always `'PermissionDeniedError'`: the class name, as stack traces and logs show it. */
  override name = 'PermissionDeniedError';
}

/**
 * 404: no such run or task, or (cloud) no access to it.
 *
 * @example
 * ```ts
 * import { CloudClient, NotFoundError } from 'taskguard';
 *
 * const found = await new CloudClient().getTask('9qQe2F8Z_nXx9-eJA0BD6').catch((error: unknown) => {
 *   if (error instanceof NotFoundError) return undefined; // no such task, or not this key's
 *   throw error;
 * });
 * console.log(found?.task.status ?? 'gone');
 * ```
 */
export class NotFoundError extends ApiError {
  /** Always `'NotFoundError'`: the class name, as stack traces and logs show it. */
  override name = 'NotFoundError';
}

/**
 * 429: too many requests. `retryAfterMs` is the server's hint, when it gave one.
 *
 * @example
 * ```ts
 * import { AgentClient, RateLimitError } from 'taskguard';
 *
 * const agent = new AgentClient({ retries: 0 }); // handle 429s yourself
 * try {
 *   await agent.listTasks();
 * } catch (error) {
 *   if (!(error instanceof RateLimitError)) throw error;
 *   await new Promise((resolve) => setTimeout(resolve, error.retryAfterMs ?? 1_000));
 * }
 * ```
 */
export class RateLimitError extends ApiError {
  /** Always `'RateLimitError'`: the class name, as stack traces and logs show it. */
  override name = 'RateLimitError';
}

/**
 * 5xx: the server failed (including a proxy's HTML 502 page).
 *
 * @example
 * ```ts
 * import { CloudClient, InternalServerError } from 'taskguard';
 *
 * try {
 *   await new CloudClient({ retries: 5 }).listTasks({ status: 'active' });
 * } catch (error) {
 *   if (!(error instanceof InternalServerError)) throw error;
 *   console.error(`the API is failing: ${error.status} after 6 attempts`);
 * }
 * ```
 */
export class InternalServerError extends ApiError {
  /** Always `'InternalServerError'`: the class name, as stack traces and logs show it. */
  override name = 'InternalServerError';
}

/**
 * A 2xx answer whose body is not the JSON the API documents (truncated, empty, HTML).
 *
 * @example
 * ```ts
 * import { AgentClient, InvalidResponseError } from 'taskguard';
 *
 * try {
 *   await new AgentClient().listTasks();
 * } catch (error) {
 *   if (!(error instanceof InvalidResponseError)) throw error;
 *   console.error('something else answered (a proxy, a captive portal?): check baseUrl', error.body);
 * }
 * ```
 */
export class InvalidResponseError extends ApiError {
  /** Always `'InvalidResponseError'`: the class name, as stack traces and logs show it. */
  override name = 'InvalidResponseError';
}

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
  constructor(info: RequestInfo, options?: { readonly cause?: unknown }) {
    super(`Connection failed: ${info.method} ${info.path}`, options);
    this.method = info.method;
    this.path = info.path;
  }
}

/**
 * No complete answer arrived within `timeoutMs` (the headers and the body together).
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
export class RequestTimeoutError extends BlackboxError {
  /** Always `'RequestTimeoutError'`: the class name, as stack traces and logs show it. */
  override name = 'RequestTimeoutError';
  /** HTTP method of the request. */
  readonly method: string;
  /** Path of the request. */
  readonly path: string;
  /** The limit that was exceeded, in milliseconds. */
  readonly timeoutMs: number;

  /** `info` names the request and the limit it exceeded. */
  constructor(info: RequestInfo & { readonly timeoutMs: number }) {
    super(`Request timed out after ${info.timeoutMs} ms: ${info.method} ${info.path}`);
    this.method = info.method;
    this.path = info.path;
    this.timeoutMs = info.timeoutMs;
  }
}

/**
 * Bad input, refused before any request was sent: an empty or malformed ID, a title outside 1–200
 * characters, a missing prompt, no API key (the message names the environment variable), a task kind
 * without a backend.
 *
 * @example
 * ```ts
 * import { AgentClient, ValidationError } from 'taskguard';
 *
 * try {
 *   await new AgentClient().rename('3f1c2a9e-8b7d-4c55-9e0f-2a1b3c4d5e6f', ''); // a title has 1–200 characters
 * } catch (error) {
 *   if (!(error instanceof ValidationError)) throw error;
 *   console.error(error.message); // nothing was sent
 * }
 * ```
 */
export class ValidationError extends BlackboxError {
  /** Always `'ValidationError'`: the class name, as stack traces and logs show it. */
  override name = 'ValidationError';
}

/**
 * A task did not finish within its deadline; the manager cancelled (or stopped) it. `TaskManager.wait`
 * rejects with it.
 *
 * @example
 * ```ts
 * import { TaskManager, TaskTimeoutError, type TaskRef } from 'taskguard';
 * declare const manager: TaskManager;
 * declare const ref: TaskRef;
 *
 * try {
 *   console.log((await manager.wait(ref, { timeoutMs: 5 * 60_000 })).outcome);
 * } catch (error) {
 *   if (!(error instanceof TaskTimeoutError)) throw error;
 *   console.warn(`${error.ref.kind}:${error.ref.id} was cancelled at its deadline`);
 * }
 * ```
 */
export class TaskTimeoutError extends BlackboxError {
  /** Always `'TaskTimeoutError'`: the class name, as stack traces and logs show it. */
  override name = 'TaskTimeoutError';
  /** The task that timed out. */
  readonly ref: TaskRef;
  /** The deadline it had, in milliseconds since the epoch. */
  readonly deadline: number;

  /** `ref` is the task, `deadline` the one it missed (epoch milliseconds). */
  constructor(ref: TaskRef, deadline: number, options?: { readonly cause?: unknown }) {
    super(`Task ${ref.kind}:${ref.id} did not finish by its deadline (${new Date(deadline).toISOString()})`, options);
    this.ref = ref;
    this.deadline = deadline;
  }
}

/**
 * A registry store failed: it could not be opened (a locked journal, Redis unreachable) or a write failed.
 * `cause` holds the store's own error.
 *
 * @example
 * ```ts
 * import { AgentClient, FileStore, StoreError, TaskManager } from 'taskguard';
 *
 * const manager = new TaskManager({ agent: new AgentClient(), store: new FileStore({ path: './tasks.jsonl' }) });
 * try {
 *   await manager.ready();
 * } catch (error) {
 *   if (!(error instanceof StoreError)) throw error;
 *   console.error(error.message, error.cause); // e.g. the journal is locked by another live process
 * }
 * ```
 */
export class StoreError extends BlackboxError {
  /** Always `'StoreError'`: the class name, as stack traces and logs show it. */
  override name = 'StoreError';
}

/**
 * The manager no longer tracks tasks: `track`/`start` after `shutdown()` or `close()`, or a task whose
 * tracking ended because the manager closed before its cancel was confirmed.
 *
 * @example
 * ```ts
 * import { ManagerClosedError, TaskManager } from 'taskguard';
 * declare const manager: TaskManager;
 *
 * try {
 *   await manager.start('agent', { prompt: 'Triage the new issues' });
 * } catch (error) {
 *   if (!(error instanceof ManagerClosedError)) throw error;
 *   console.warn('shutting down: no new work');
 * }
 * ```
 */
export class ManagerClosedError extends BlackboxError {
  /** Always `'ManagerClosedError'`: the class name, as stack traces and logs show it. */
  override name = 'ManagerClosedError';
  /** The task concerned, when there is one: e.g. one whose create answered after `close()` and that nobody tracks. */
  readonly ref: TaskRef | undefined;

  /** `options.ref` names the task concerned, if any; `options.cause` the underlying error. */
  constructor(message: string, options: { readonly ref?: TaskRef; readonly cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.ref = options.ref;
  }
}
