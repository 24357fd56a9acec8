/**
 * The HTTP plumbing every route shares: replies, errors, request bodies and body fields.
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** What a handler answers. */
export interface Reply {
  readonly statusCode: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** A failure a handler throws to answer `statusCode` with `{ error: message }`. */
export class HttpError extends Error {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>> | undefined;

  constructor(statusCode: number, message: string, headers?: Readonly<Record<string, string>>) {
    super(message);
    this.name = 'HttpError';
    this.statusCode = statusCode;
    this.headers = headers;
  }

  toReply(): Reply {
    return { statusCode: this.statusCode, body: { error: this.message }, ...(this.headers && { headers: this.headers }) };
  }
}

/** A 200 reply. */
export function ok(body: unknown): Reply {
  return { statusCode: 200, body };
}

/** Whether an answer can still be written: the client is connected and nothing was sent yet. */
export function writable(res: ServerResponse): boolean {
  return !res.headersSent && !res.destroyed && res.socket !== null && !res.socket.destroyed;
}

/** Writes a JSON reply; returns false (and does nothing) when the client is already gone. */
export function sendJson(res: ServerResponse, reply: Reply): boolean {
  if (!writable(res)) return false;
  const text = JSON.stringify(reply.body);
  res.writeHead(reply.statusCode, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...reply.headers,
  });
  res.end(text);
  return true;
}

/** Writes an HTML reply, as the proxies in front of real APIs do on a 502; false when the client is gone. */
export function sendHtml(res: ServerResponse, statusCode: number, html: string): boolean {
  if (!writable(res)) return false;
  res.writeHead(statusCode, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html) });
  res.end(html);
  return true;
}

/**
 * Reads the whole request body as UTF-8. Rejects with a 413 `HttpError` past `maxBytes` (the connection
 * is then closed, since the rest of the body is never read), or with an `Error` when the client goes away.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  const tooLarge = (): HttpError => new HttpError(413, 'Request body too large', { connection: 'close' });
  if (Number(req.headers['content-length']) > maxBytes) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= maxBytes) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      reject(tooLarge());
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, size).toString('utf8')));
    req.once('error', reject);
    // After 'end' this is a no-op; before it, the client hung up mid-body.
    req.once('close', () => reject(new Error('client closed the request')));
  });
}

/** Parses a JSON object body, or throws the 400 the APIs answer to anything else. */
export function parseJsonObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'Invalid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HttpError(400, 'Request body must be a JSON object');
  return value as Record<string, unknown>;
}

/** A required, non-blank string field. */
export function requiredText(body: Record<string, unknown>, name: string, value: unknown = body[name]): string {
  if (typeof value !== 'string' || value.trim() === '') throw new HttpError(400, `${name} is required`);
  return value;
}

/** An optional string field, `null` when absent. */
export function optionalText(body: Record<string, unknown>, name: string): string | null {
  const value = body[name];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new HttpError(400, `${name} must be a string`);
  return value;
}

/** An integer query parameter from `min` to `max`, or `fallback` when absent. */
export function intQuery(query: URLSearchParams, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = query.get(name);
  if (raw === null) return fallback;
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= min && value <= max)) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`;
    throw new HttpError(400, `${name} must be ${range}`);
  }
  return value;
}

/** A boolean query parameter (`true`/`false`, `1`/`0`), or `fallback` when absent or empty. */
export function boolQuery(query: URLSearchParams, name: string, fallback: boolean): boolean {
  const raw = query.get(name);
  if (raw === null || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new HttpError(400, `${name} must be true or false`);
}

/** Epoch milliseconds as an ISO 8601 string, `null` for none. */
export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** Percent of `elapsedMs` in `durationMs`, 0–100, rounded down. */
export function percent(elapsedMs: number, durationMs: number): number {
  if (durationMs === 0) return 100;
  return Math.max(0, Math.min(100, Math.floor((elapsedMs / durationMs) * 100)));
}
