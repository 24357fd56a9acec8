/**
 * The request policy: the one place that decides which failures are worth another attempt, how long to
 * wait before it, and whether a failed request may still have been applied. The request core asks it
 * between retries; the manager asks it for its poll pause and its cancel retries.
 * @module
 */
import {
  ApiError,
  BlackboxError,
  ConnectionError,
  InternalServerError,
  InvalidResponseError,
  RateLimitError,
} from '../errors/classes.js';
import { backoffDelay, type BackoffPolicy } from '../util/backoff.js';

/** The HTTP methods the two APIs use. */
export type HttpMethod = 'GET' | 'POST' | 'PATCH';

/**
 * Error codes (Node's and undici's) of a connection that failed before a byte of the request was
 * written: refused, no such host, no route, a connect timeout, a TLS handshake refused. A server that
 * never saw the request cannot have acted on it.
 */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_NONAME',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);

/** True when `error` is a connection failure whose request never left (see {@link NOT_SENT_CODES}). */
export function failedBeforeSending(error: unknown): boolean {
  if (!(error instanceof ConnectionError)) return false;
  for (let cause: unknown = error.cause, depth = 0; cause !== undefined && cause !== null && depth < 5; depth++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && (NOT_SENT_CODES.has(code) || code.startsWith('ERR_TLS_'))) return true;
    cause = (cause as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * A failure that may pass: a network error, a timeout, 408, 429 or 5xx. Whether it is retried also
 * depends on the method ({@link isRetryable}).
 */
export function isTransient(error: unknown): boolean {
  // A timeout is a ConnectionError too.
  if (error instanceof ConnectionError) return true;
  if (error instanceof RateLimitError || error instanceof InternalServerError) return true;
  return error instanceof ApiError && !(error instanceof InvalidResponseError) && error.status === 408;
}

/**
 * Whether a failed attempt is tried again. GET and PATCH (reads, cancel, stop, rename: idempotent in
 * effect) on any transient failure. POST (create, continue) only where the server cannot have acted: a
 * connection that failed before the request was written, or a 429.
 */
export function isRetryable(method: HttpMethod, error: unknown): boolean {
  if (method !== 'POST') return isTransient(error);
  return error instanceof RateLimitError || failedBeforeSending(error);
}

/**
 * Whether a failed POST may still have been applied: it reached the server (or may have) and no answer
 * says it was refused — a reset after sending, a timeout, 408, a 5xx or a proxy's HTML page, or a
 * success whose body could not be read.
 */
export function mayHaveBeenApplied(method: HttpMethod, error: unknown): boolean {
  if (method !== 'POST' || !(error instanceof BlackboxError)) return false;
  if (error instanceof RateLimitError || failedBeforeSending(error)) return false;
  if (error instanceof ConnectionError) return true;
  if (error instanceof InvalidResponseError) return error.status < 300 || error.status >= 500;
  return error instanceof ApiError && (error.status === 408 || error.status >= 500);
}

/** A server's `Retry-After` hint, capped: no hint makes anyone wait longer than `maxRetryAfterMs`. */
export function cappedRetryAfter(error: unknown, maxRetryAfterMs: number): number | undefined {
  const hint = error instanceof ApiError ? error.retryAfterMs : undefined;
  return hint === undefined ? undefined : Math.min(hint, maxRetryAfterMs);
}

/** The wait before retry number `retry` (from 0): the backoff, with the capped server hint as a floor. */
export function retryDelay(retry: number, error: unknown, backoff: BackoffPolicy, maxRetryAfterMs: number, random?: () => number): number {
  return backoffDelay(retry, backoff, cappedRetryAfter(error, maxRetryAfterMs), random);
}
