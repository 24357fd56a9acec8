/**
 * Helpers of the client tests: tiny `node:http` servers on loopback for the answers the simulator cannot
 * give, a fetch that counts what is read, a driver for fake timers, polling on real event-loop turns,
 * and the key-leak check.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import FakeTimers from '@sinonjs/fake-timers';
import { expect } from 'vitest';

/** A request a test server received, body read in full. */
export interface RecordedRequest {
  readonly method: string;
  /** The raw request target, as sent: path and query, still percent-encoded. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** Answers one request; `index` counts from 0 in arrival order. */
export type TestHandler = (req: IncomingMessage, res: ServerResponse, recorded: RecordedRequest, index: number) => void;

/** A tiny loopback server of one test. */
export interface TestServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Every request, in arrival order. */
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

const openServers = new Set<TestServer>();

/** Starts a server on 127.0.0.1, port 0. It is closed by {@link closeTestServers} if the test does not. */
export async function startTestServer(handler: TestHandler): Promise<TestServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => {
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      handler(req, res, recorded, requests.length - 1);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  const testServer: TestServer = {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close() {
      closing ??= new Promise<void>((resolve) => {
        openServers.delete(testServer);
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
  openServers.add(testServer);
  return testServer;
}

/** Closes every test server still open (for `afterEach`). */
export async function closeTestServers(): Promise<void> {
  await Promise.all([...openServers].map((server) => server.close()));
}

/** Writes a JSON answer. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Writes a raw answer with the given content type. */
export function sendText(res: ServerResponse, status: number, text: string, contentType: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * A fetch that counts, per response, the body bytes the client pulled (after decoding, as the client
 * sees them): proof of how much of a body a client read, whatever it kept of it.
 */
export function countingFetch(): { readonly fetch: typeof globalThis.fetch; readonly bytesRead: number[] } {
  const bytesRead: number[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const response = await globalThis.fetch(input, init);
    if (!response.body) return response;
    const index = bytesRead.push(0) - 1;
    const counter = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        bytesRead[index]! += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    return new Response(response.body.pipeThrough(counter), { status: response.status, statusText: response.statusText, headers: response.headers });
  };
  return { fetch, bytesRead };
}

/**
 * Wraps `fetch` so that every error answer (status ≥ 400) quotes the request's Authorization header back,
 * as a careless gateway does: in the JSON `error` string (or an `echo` field), or at the end of any other
 * body. A key-leak test against it can fail: the key reaches the client, which must redact it.
 */
export function echoingAuthorization(fetch: typeof globalThis.fetch = globalThis.fetch): typeof globalThis.fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    if (response.ok) return response;
    const sent = `you sent ${(input instanceof Request ? input.headers : new Headers(init?.headers)).get('authorization')}`;
    const text = await response.text();
    const body: unknown = await new Response(text).json().catch(() => undefined);
    const echoed =
      typeof body !== 'object' || body === null || Array.isArray(body)
        ? `${text} (${sent})`
        : JSON.stringify('error' in body && typeof body.error === 'string' ? { ...body, error: `${body.error} (${sent})` } : { ...body, echo: sent });
    const headers = new Headers(response.headers);
    headers.delete('content-length');
    return new Response(echoed, { status: response.status, statusText: response.statusText, headers });
  };
}

/**
 * A status's `progress` as far as the API promises: a number from 0 to 100. The steps in between are the
 * server's (the simulator's are its own invention), so a client test asserts no more than this.
 */
export const aPercentage: unknown = expect.toSatisfy((value: unknown) => typeof value === 'number' && value >= 0 && value <= 100, 'a number from 0 to 100');

/** A port on 127.0.0.1 that nothing listens on (it was free a moment ago). */
export async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** One turn of the event loop (setImmediate is never faked here). */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Waits, turn by turn, until `condition` holds. The 10 s guard only turns a hang into a readable failure;
 * no assertion depends on how long this takes.
 */
export async function waitFor(condition: () => boolean, what = 'condition'): Promise<void> {
  const giveUpAt = performance.now() + 10_000;
  while (!condition()) {
    if (performance.now() > giveUpAt) throw new Error(`waitFor: ${what} never held`);
    await turn();
  }
}

/** Fake `setTimeout`/`clearTimeout` (and optionally `Date`) only: I/O, setImmediate and performance stay real. */
export function installClock(options: { fakeDate?: boolean; now?: number } = {}): FakeTimers.Clock {
  return FakeTimers.install({
    toFake: options.fakeDate ? ['setTimeout', 'clearTimeout', 'Date'] : ['setTimeout', 'clearTimeout'],
    shouldClearNativeTimers: true,
    ...(options.now !== undefined && { now: options.now }),
  });
}

/**
 * Advances the fake clock in steps of `stepMs`, letting real I/O run between steps, until `promise`
 * settles; resolves or rejects like it. Fails after `maxFakeMs` of fake time instead of spinning forever.
 */
export async function drive<T>(clock: FakeTimers.Clock, promise: Promise<T>, stepMs = 50, maxFakeMs = 2 * 3_600_000): Promise<T> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  const start = clock.now;
  await turn();
  while (!settled) {
    if (clock.now - start > maxFakeMs) throw new Error(`drive: the promise did not settle within ${maxFakeMs} fake ms`);
    await clock.tickAsync(stepMs);
    await turn();
  }
  return promise;
}

/** Advances the fake clock step by step (with real I/O between steps) by about `totalMs`. */
export async function advance(clock: FakeTimers.Clock, totalMs: number, stepMs = 50): Promise<void> {
  const until = clock.now + totalMs;
  while (clock.now < until) {
    await clock.tickAsync(Math.min(stepMs, until - clock.now));
    await turn();
  }
}

/** The error `call` throws synchronously or rejects with; fails the test if it succeeds. */
export async function captureError(call: () => unknown): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** The error `promise` rejects with; fails the test if it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}

/** Every rendering of an error (and of the client) a log line or a crash report could show. */
export function renderings(error: unknown, client?: unknown): Record<string, string> {
  const e = error as { message?: unknown; stack?: unknown; cause?: unknown };
  const out: Record<string, string> = {
    message: String(e.message),
    stack: String(e.stack),
    json: JSON.stringify(error) ?? '',
    inspect: inspect(error, { depth: 10 }),
    string: String(error),
    cause: String(e.cause),
    causeInspect: inspect(e.cause, { depth: 10 }),
  };
  if (client !== undefined) out['client'] = inspect(client, { depth: 10, showHidden: true });
  return out;
}

/** Asserts that no rendering of `error` (or of `client`) contains `secret`. */
export function expectNoSecret(secret: string, error: unknown, client?: unknown): void {
  for (const [where, text] of Object.entries(renderings(error, client))) {
    expect(text.includes(secret), `the API key leaked into ${where}: ${text.slice(0, 400)}`).toBe(false);
  }
}

/** Saves the given environment variables, deletes them, and returns a function that restores them. */
export function clearEnv(...names: string[]): () => void {
  const saved = new Map(names.map((name) => [name, process.env[name]] as const));
  for (const name of names) delete process.env[name];
  return () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}
