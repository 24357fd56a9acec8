import { BlackboxError, type RequestInfo } from './base.js';

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
  override name = 'BadRequestError' as const;
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
  override name = 'AuthenticationError' as const;
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
  override name = 'PermissionDeniedError' as const;
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
  override name = 'NotFoundError' as const;
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
  override name = 'RateLimitError' as const;
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
  override name = 'InternalServerError' as const;
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
  override name = 'InvalidResponseError' as const;
}
