import {
  ApiError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  type RequestInfo,
} from './classes.js';

/** What {@link errorFromResponse} needs to know about a failed answer. */
export interface ErrorResponse extends RequestInfo {
  /** HTTP status code. */
  readonly status: number;
  /** The raw body text. */
  readonly bodyText: string;
  /** The `Content-Type` header, if any. */
  readonly contentType?: string | null;
  /** The server's `Retry-After`, already parsed into milliseconds. */
  readonly retryAfterMs?: number | undefined;
}

const MAX_MESSAGE_CHARS = 300;

/**
 * The one place that maps an HTTP status and body to the error hierarchy (like openai-node's
 * `APIError.generate`). Reads `{error: string}`, `{error: {message}}`, `{message}` and non-JSON bodies
 * such as an HTML 502 page alike. Useful in a custom {@link TaskBackend}, whose errors must be typed.
 *
 * @example
 * ```ts
 * import { errorFromResponse } from 'taskguard';
 *
 * const response = await fetch('https://ci.example.com/api/builds/1234');
 * if (!response.ok) {
 *   const { status, headers } = response;
 *   const bodyText = await response.text();
 *   throw errorFromResponse({ status, method: 'GET', path: '/api/builds/1234', bodyText, contentType: headers.get('content-type') });
 * } // a 404 becomes a NotFoundError, a 502 HTML page an InternalServerError named after its <title>
 * ```
 */
export function errorFromResponse(response: ErrorResponse): ApiError {
  const body = parseBody(response.bodyText);
  const detail = describeBody(body, response.contentType);
  const { status, method, path } = response;
  const message = `${status} ${method} ${path}${detail ? `: ${detail}` : ''}`;
  const options = { body, method, path, retryAfterMs: response.retryAfterMs };
  if (status === 400) return new BadRequestError(status, message, options);
  if (status === 401) return new AuthenticationError(status, message, options);
  if (status === 403) return new PermissionDeniedError(status, message, options);
  if (status === 404) return new NotFoundError(status, message, options);
  if (status === 429) return new RateLimitError(status, message, options);
  if (status >= 500) return new InternalServerError(status, message, options);
  return new ApiError(status, message, options);
}

/** The parsed JSON body, or the raw text (empty string for no body) when it is not JSON. */
export function parseBody(text: string): unknown {
  if (text === '') return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function describeBody(body: unknown, contentType: string | null | undefined): string {
  if (typeof body === 'string') {
    if (body.trim() === '') return '';
    if (contentType?.includes('html') || /^\s*</.test(body)) return htmlTitle(body) ?? 'non-JSON (HTML) response';
    return truncate(body.trim());
  }
  if (isRecord(body)) {
    const error = body['error'];
    if (typeof error === 'string') return truncate(error);
    if (isRecord(error) && typeof error['message'] === 'string') {
      const code = typeof error['code'] === 'string' ? ` (${error['code']})` : '';
      return truncate(error['message'] + code);
    }
    if (typeof body['message'] === 'string') return truncate(body['message']);
  }
  return '';
}

function htmlTitle(html: string): string | undefined {
  const title = /<title[^>]*>([^<]*)<\/title>/i.exec(html)?.[1]?.trim();
  return title ? `HTML page "${truncate(title)}"` : undefined;
}

function truncate(text: string): string {
  return text.length > MAX_MESSAGE_CHARS ? `${text.slice(0, MAX_MESSAGE_CHARS)}…` : text;
}

/** A plain object (not an array or null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
