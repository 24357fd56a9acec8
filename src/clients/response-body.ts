/**
 * Reading an answer: its body as text under the client's byte limit, a success's JSON object, and the
 * typed error of a failure.
 * @module
 */
import { InvalidResponseError, type ApiError, type RequestInfo } from '../errors/classes.js';
import { errorFromResponse, parseBody } from '../errors/factory.js';
import { parseRetryAfter } from '../util/retry-after.js';

/** The body as text; past `maxBytes` an `InvalidResponseError`, so that no server makes the client buffer without bound. */
export async function readBody(response: Response, maxBytes: number, info: () => RequestInfo): Promise<string> {
  if (!response.body) return '';
  const declared = response.headers.get('content-length');
  if (declared !== null && Number(declared) > maxBytes) {
    await response.body.cancel();
    throw tooLarge(response.status, info(), maxBytes);
  }
  // The limit is on decoded bytes: a 1 KiB gzip body can decode to gigabytes, so a declared length
  // speaks for the body only when nothing is encoded. Such a body (the usual case) is read in one go;
  // any other is counted chunk by chunk as fetch decodes it, and cut off at the limit.
  const encoding = response.headers.get('content-encoding');
  const identity = encoding === null || encoding.trim().toLowerCase() === 'identity';
  if (identity && declared !== null && /^\d+$/.test(declared)) return response.text();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    // Leaving the loop cancels the body: fetch stops reading and decoding at once.
    if (size > maxBytes) throw tooLarge(response.status, info(), maxBytes);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

function tooLarge(status: number, info: RequestInfo, maxBytes: number): InvalidResponseError {
  return new InvalidResponseError(status, `${status} ${info.method} ${info.path}: response body larger than ${maxBytes} bytes`, {
    ...info,
    body: undefined,
  });
}

/** A 2xx answer's JSON object: every endpoint answers one, so anything else is an `InvalidResponseError`. */
export function parseSuccess<T>(response: Response, bodyText: string, info: () => RequestInfo): T {
  const body = parseBody(bodyText);
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) return body as T;
  const what = bodyText === '' ? 'an empty body' : 'a body that is not a JSON object';
  const { method, path } = info();
  throw new InvalidResponseError(response.status, `${response.status} ${method} ${path}: ${what}`, { method, path, body });
}

/** The typed error of a non-2xx answer, from its body already read (and redacted). */
export function failureOf(response: Response, bodyText: string, info: RequestInfo): ApiError {
  return errorFromResponse({ ...info, status: response.status, bodyText, contentType: response.headers.get('content-type'), retryAfterMs: parseRetryAfter(response.headers) });
}
