import type { TaskRef } from '../refs.js';

/** Where an API error came from: never headers, never the key. */
export interface RequestInfo {
  /** HTTP method, upper case. */
  readonly method: string;
  /** Path of the request, relative to the base URL, with its query. */
  readonly path: string;
}

/** The root of every error taskguard throws or reports. */
export class BlackboxError extends Error {
  override name = 'BlackboxError';
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

/** The API answered with a status that is not a success. Use {@link errorFromResponse} to build one. */
export class ApiError extends BlackboxError {
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

  constructor(status: number, message: string, options: ApiErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = status;
    this.body = options.body;
    this.method = options.method;
    this.path = options.path;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** 400: the request was refused, e.g. invalid JSON, no valid action, or a cloud task not in progress. */
export class BadRequestError extends ApiError {
  override name = 'BadRequestError';
}

/** 401: the API key is missing or invalid. */
export class AuthenticationError extends ApiError {
  override name = 'AuthenticationError';
}

/** 403: the run belongs to another user. */
export class PermissionDeniedError extends ApiError {
  override name = 'PermissionDeniedError';
}

/** 404: no such run or task, or (cloud) no access to it. */
export class NotFoundError extends ApiError {
  override name = 'NotFoundError';
}

/** 429: too many requests. `retryAfterMs` is the server's hint, when it gave one. */
export class RateLimitError extends ApiError {
  override name = 'RateLimitError';
}

/** 5xx: the server failed (including a proxy's HTML 502 page). */
export class InternalServerError extends ApiError {
  override name = 'InternalServerError';
}

/** A 2xx answer whose body is not the JSON the API documents (truncated, empty, HTML). */
export class InvalidResponseError extends ApiError {
  override name = 'InvalidResponseError';
}

/** The request never got an answer: refused, reset, DNS failure. `cause` holds the network error. */
export class ConnectionError extends BlackboxError {
  override name = 'ConnectionError';
  /** HTTP method of the request. */
  readonly method: string;
  /** Path of the request. */
  readonly path: string;

  constructor(info: RequestInfo, options?: { readonly cause?: unknown }) {
    super(`Connection failed: ${info.method} ${info.path}`, options);
    this.method = info.method;
    this.path = info.path;
  }
}

/** No complete answer arrived within `timeoutMs` (the headers and the body together). */
export class RequestTimeoutError extends BlackboxError {
  override name = 'RequestTimeoutError';
  /** HTTP method of the request. */
  readonly method: string;
  /** Path of the request. */
  readonly path: string;
  /** The limit that was exceeded, in milliseconds. */
  readonly timeoutMs: number;

  constructor(info: RequestInfo & { readonly timeoutMs: number }) {
    super(`Request timed out after ${info.timeoutMs} ms: ${info.method} ${info.path}`);
    this.method = info.method;
    this.path = info.path;
    this.timeoutMs = info.timeoutMs;
  }
}

/** Bad input, refused before any request was sent. */
export class ValidationError extends BlackboxError {
  override name = 'ValidationError';
}

/** A task did not finish within its deadline; the manager cancelled (or stopped) it. */
export class TaskTimeoutError extends BlackboxError {
  override name = 'TaskTimeoutError';
  /** The task that timed out. */
  readonly ref: TaskRef;
  /** The deadline it had, in milliseconds since the epoch. */
  readonly deadline: number;

  constructor(ref: TaskRef, deadline: number, options?: { readonly cause?: unknown }) {
    super(`Task ${ref.kind}:${ref.id} did not finish by its deadline (${new Date(deadline).toISOString()})`, options);
    this.ref = ref;
    this.deadline = deadline;
  }
}

/** A registry store failed: it could not be opened (a locked journal, Redis unreachable) or a write failed. */
export class StoreError extends BlackboxError {
  override name = 'StoreError';
}

/**
 * The manager no longer tracks tasks: `track`/`start` after `shutdown()` or `close()`, or a task whose
 * tracking ended because the manager closed before its cancel was confirmed.
 */
export class ManagerClosedError extends BlackboxError {
  override name = 'ManagerClosedError';
}
