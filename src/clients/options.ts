import { isIPv4 } from 'node:net';
import { ValidationError } from '../errors/classes.js';
import { validateBackoffPolicy, type BackoffPolicy } from '../util/backoff.js';
import type { ApiDescriptor } from './request-types.js';

/**
 * Options of {@link AgentClient} and {@link CloudClient}. Every field is optional; the defaults are in
 * {@link CLIENT_DEFAULTS}.
 *
 * @example
 * ```ts
 * import { CloudClient, type ClientOptions } from 'taskguard';
 *
 * const options: ClientOptions = { timeoutMs: 10_000, retries: 4, retryBackoff: { maxMs: 4_000 } };
 * const cloud = new CloudClient(options); // key from BLACKBOX_CLOUD_API_KEY
 * console.log(cloud.baseUrl); // https://cloud.blackbox.ai/
 * ```
 */
export interface ClientOptions {
  /**
   * The API key, sent as `Authorization: Bearer <key>`.
   * @default process.env.BLACKBOX_API_KEY (agent) or process.env.BLACKBOX_CLOUD_API_KEY (cloud)
   */
  readonly apiKey?: string | undefined;
  /**
   * Where the API lives. Must be `https:`, or `http:` on a loopback host (the simulator), unless
   * {@link allowInsecureHttp} is set.
   * @default "https://agent.blackbox.ai" (agent) or "https://cloud.blackbox.ai" (cloud)
   */
  readonly baseUrl?: string | undefined;
  /**
   * Limit of one attempt (the answer's headers and body together), in milliseconds.
   * @default 30000
   */
  readonly timeoutMs?: number | undefined;
  /**
   * How many times a failed request is retried: GET and PATCH on a network error, a timeout, 408, 429
   * or 5xx; POST (create, continue) only on a 429 or a connection that failed before the request was
   * sent (see docs/reliability.md, "The request policy").
   * @default 2
   */
  readonly retries?: number | undefined;
  /**
   * Delays between retries; a `Retry-After` hint is a floor on the delay.
   * @default { initialMs: 500, maxMs: 8000, factor: 2, jitter: 1 }
   */
  readonly retryBackoff?: Partial<BackoffPolicy> | undefined;
  /**
   * Cap on how long a `Retry-After` hint can make one retry wait, in milliseconds.
   * @default 60000
   */
  readonly maxRetryAfterMs?: number | undefined;
  /**
   * Budget of one call, in milliseconds: its attempts, backoffs and `Retry-After` waits together. No
   * retry starts that would wait past it, and the last attempt's timeout is cut to what is left.
   * @default 120000
   */
  readonly maxRetryTimeMs?: number | undefined;
  /**
   * Largest response body read, in bytes; a larger one fails with `InvalidResponseError`.
   * @default 16777216 (16 MiB)
   */
  readonly maxResponseBytes?: number | undefined;
  /**
   * Allow `http:` to a host that is not loopback. The key would travel in clear text.
   * @default false
   */
  readonly allowInsecureHttp?: boolean | undefined;
  /**
   * The `fetch` to send requests with (a proxy, instrumentation, a test double). It is called as
   * `fetch(request, { signal, body })` and must honour `init.signal` (forward `init`, as a wrapper
   * usually does): the attempt's timeout and the caller's abort arrive there.
   * @default globalThis.fetch
   */
  readonly fetch?: typeof globalThis.fetch | undefined;
}

/**
 * Client defaults, in one place: the values {@link ClientOptions} fall back to (besides the key and the
 * base URL, which depend on the API).
 *
 * @example
 * ```ts
 * import { AgentClient, CLIENT_DEFAULTS } from 'taskguard';
 *
 * // Twice the default limit per attempt, the other defaults kept.
 * const agent = new AgentClient({ timeoutMs: 2 * CLIENT_DEFAULTS.timeoutMs });
 * console.log(CLIENT_DEFAULTS.retries, agent.baseUrl); // 2 https://agent.blackbox.ai/
 * ```
 */
export const CLIENT_DEFAULTS = {
  /** Limit of one attempt: 30 s. */
  timeoutMs: 30_000,
  /** Retries of a failed request: 2, so at most 3 attempts. */
  retries: 2,
  /** Delays between retries: from 500 ms, doubling up to 8 s, full jitter (a {@link BackoffPolicy}). */
  retryBackoff: { initialMs: 500, maxMs: 8_000, factor: 2, jitter: 1 },
  /** Cap on the wait a `Retry-After` hint can impose on one retry: 60 s. */
  maxRetryAfterMs: 60_000,
  /** Budget of one call, retries and waits included: 2 min. */
  maxRetryTimeMs: 120_000,
  /** Largest response body read: 16 MiB. */
  maxResponseBytes: 16 * 1024 * 1024,
} as const satisfies Partial<ClientOptions>;

/** Options after defaults and checks. */
export interface ResolvedClientOptions {
  readonly apiKey: string;
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly retryBackoff: BackoffPolicy;
  readonly maxRetryAfterMs: number;
  readonly maxRetryTimeMs: number;
  readonly maxResponseBytes: number;
  readonly fetch: typeof globalThis.fetch;
}

const LOOPBACK_NAMES = new Set(['localhost', '[::1]']);

function isLoopback(hostname: string): boolean {
  return LOOPBACK_NAMES.has(hostname) || (isIPv4(hostname) && hostname.startsWith('127.'));
}

/** Applies the defaults and checks every option, naming the option that is wrong. */
export function resolveClientOptions(options: ClientOptions, api: ApiDescriptor): ResolvedClientOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${api.name} options must be an object`);
  const apiKey = options.apiKey ?? process.env[api.envVar];
  if (apiKey === undefined || apiKey === '') {
    throw new ValidationError(`${api.name}: no API key. Pass { apiKey } or set the ${api.envVar} environment variable.`);
  }
  if (typeof apiKey !== 'string' || apiKey.trim() !== apiKey || /[\s\0-\x1f\x7f]/.test(apiKey)) {
    throw new ValidationError(`${api.name}: the API key must be a string without spaces or control characters.`);
  }
  const retryBackoff = { ...CLIENT_DEFAULTS.retryBackoff, ...options.retryBackoff };
  validateBackoffPolicy(retryBackoff, 'retryBackoff');
  return {
    apiKey,
    baseUrl: checkBaseUrl(options.baseUrl ?? api.defaultBaseUrl, { name: 'baseUrl', allowInsecureHttp: options.allowInsecureHttp ?? false }),
    timeoutMs: positive('timeoutMs', options.timeoutMs ?? CLIENT_DEFAULTS.timeoutMs),
    retries: count('retries', options.retries ?? CLIENT_DEFAULTS.retries),
    retryBackoff,
    maxRetryAfterMs: positive('maxRetryAfterMs', options.maxRetryAfterMs ?? CLIENT_DEFAULTS.maxRetryAfterMs),
    maxRetryTimeMs: positive('maxRetryTimeMs', options.maxRetryTimeMs ?? CLIENT_DEFAULTS.maxRetryTimeMs),
    maxResponseBytes: positive('maxResponseBytes', options.maxResponseBytes ?? CLIENT_DEFAULTS.maxResponseBytes, Number.MAX_SAFE_INTEGER),
    fetch: checkFetch(options.fetch),
  };
}

/**
 * A base URL the key may be sent to, normalized (no query or fragment, a trailing slash); a `TypeError`
 * calls it `name`. Plain `http:` only to loopback, unless the caller has an `allowInsecureHttp` option
 * and it is set: only then does the error offer that way out.
 */
export function checkBaseUrl(value: unknown, { name, allowInsecureHttp }: { readonly name: string; readonly allowInsecureHttp?: boolean }): string {
  if (typeof value !== 'string' || !URL.canParse(value)) throw new TypeError(`${name} must be an absolute http(s) URL, got ${String(value)}`);
  const url = new URL(value);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError(`${name} must be http(s), got ${url.protocol}`);
  if (url.username || url.password) throw new TypeError(`${name} must not hold credentials: the API key is sent apart`);
  if (url.protocol === 'http:' && !allowInsecureHttp && !isLoopback(url.hostname)) {
    const escape = allowInsecureHttp === undefined ? '' : ' or set allowInsecureHttp';
    throw new TypeError(`${name} ${url.origin} is http: to a non-loopback host; the key would travel in clear text. Use https:${escape}.`);
  }
  url.search = '';
  url.hash = '';
  return url.href.endsWith('/') ? url.href : `${url.href}/`;
}

/** setTimeout's longest delay: a longer one fires at once. */
const MAX_TIMER_MS = 2_147_483_647;

function positive(name: string, value: number, max = MAX_TIMER_MS): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > max) {
    throw new RangeError(`${name} must be a number > 0 and ≤ ${max}, got ${value}`);
  }
  return value;
}

function count(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`${name} must be an integer ≥ 0, got ${value}`);
  return value;
}

function checkFetch(value: unknown): typeof globalThis.fetch {
  if (value === undefined) return globalThis.fetch.bind(globalThis);
  if (typeof value !== 'function') throw new TypeError('fetch must be a function');
  return value as typeof globalThis.fetch;
}
