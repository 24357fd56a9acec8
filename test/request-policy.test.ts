/**
 * The request policy (SPEC §6) seen from outside, over real HTTP on loopback: which failures are retried
 * per method, what a failed POST says (`mayHaveBeenApplied`), the call's budget (`maxRetryTimeMs`), the
 * cap on `Retry-After`, attempts run in a limiter's slot (`runAttempt`) with the waits outside it, the
 * decoded-bytes limit, one abort listener per shared signal, and the key kept out of every error.
 */
import { getEventListeners } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { inspect } from 'node:util';
import { createGzip } from 'node:zlib';
import pLimit from 'p-limit';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AgentClient,
  BadRequestError,
  BlackboxError,
  CloudClient,
  ConnectionError,
  InternalServerError,
  InvalidResponseError,
  RequestTimeoutError,
  type ClientOptions,
} from '../src/index.js';
import {
  closeTestServers,
  countingFetch,
  expectNoSecret,
  refusedPort,
  rejectionOf,
  sendJson,
  sendText,
  startTestServer,
  turn,
  waitFor,
  type RecordedRequest,
} from './helpers/clients-http.js';

const KEY = 'sk-test-SECRET-policy-7f3a9c1e5b2d4f6a8c0e';
/** Retries 1–2 ms apart: any retry the policy allows happens at once. */
const FAST = { initialMs: 1, maxMs: 2, factor: 2, jitter: 0 };
const MAY_HAVE_BEEN_APPLIED = /may have been applied/i;
const MiB = 1024 * 1024;

afterEach(async () => {
  await closeTestServers();
});

/** What an echoing server puts in its error bodies: the Authorization header it received, verbatim. */
function echo(recorded: RecordedRequest): string {
  return `you sent ${String(recorded.headers.authorization)}`;
}

/** The key appears in no rendering of the error: message, stack, JSON, cause, and inspect with hidden fields. */
function expectKeyHidden(error: unknown, client?: unknown): void {
  expectNoSecret(KEY, error, client);
  const hidden = inspect(error, { showHidden: true, depth: 10 });
  expect(hidden.includes(KEY), `the API key leaked into inspect(showHidden): ${hidden.slice(0, 400)}`).toBe(false);
}

/** The error's body, as a string: to prove the server's echo of the key reached the client (redacted). */
function bodyText(error: unknown): string {
  return JSON.stringify((error as { body?: unknown }).body) ?? '';
}

interface PostCase {
  readonly name: string;
  readonly make: (options: ClientOptions) => AgentClient | CloudClient;
  readonly post: (client: AgentClient | CloudClient) => Promise<unknown>;
  readonly path: string;
}

/** The POSTs of both APIs that create work: each must be sent at most once unless the server cannot have acted. */
const POSTS: readonly PostCase[] = [
  {
    name: 'AgentClient.createTask',
    make: (options) => new AgentClient(options),
    post: (client) => (client as AgentClient).createTask({ prompt: 'Fix the flaky test' }),
    path: '/api/v1/tasks',
  },
  {
    name: 'CloudClient.createTask',
    make: (options) => new CloudClient(options),
    post: (client) => (client as CloudClient).createTask({ prompt: 'Fix the flaky test' }),
    path: '/api/tasks',
  },
  {
    name: 'AgentClient.continueTask',
    make: (options) => new AgentClient(options),
    post: (client) => (client as AgentClient).continueTask('run-1', { prompt: 'And the docs' }),
    path: '/api/v1/tasks/run-1/continue',
  },
];

describe('a POST that may have reached the server is never retried', () => {
  /** Failures after the request was sent: the server may have created the task before the answer was lost. */
  type Answer = (res: ServerResponse, recorded: RecordedRequest, req: IncomingMessage) => void;
  const failures: [string, Answer, abstract new (...args: never[]) => BlackboxError][] = [
    ['a 500', (res, recorded) => sendJson(res, 500, { error: `database hiccup; ${echo(recorded)}` }), InternalServerError],
    [
      'an HTML 502 page',
      (res, recorded) => sendText(res, 502, `<html><head><title>502 Bad Gateway</title></head><body>${echo(recorded)}</body></html>`, 'text/html'),
      InternalServerError,
    ],
    // The body was read in full (the handler runs after it), then the socket goes: a reset after sending.
    ['a connection reset after the request was sent', (_res, _recorded, req) => req.socket.destroy(), ConnectionError],
    ['a timeout (the server never answers)', () => {}, RequestTimeoutError],
  ];

  for (const { name, make, post, path } of POSTS) {
    for (const [what, answer, type] of failures) {
      it(`sends ${name} once after ${what} and says the request may have been applied`, async () => {
        const server = await startTestServer((req, res, recorded) => answer(res, recorded, req));
        const client = make({ apiKey: KEY, baseUrl: server.url, retries: 5, retryBackoff: FAST, timeoutMs: 300 });
        const error = await rejectionOf(post(client));
        expect(error).toBeInstanceOf(type);
        expect(server.requests).toHaveLength(1);
        expect(server.requests[0]).toMatchObject({ method: 'POST', url: path });
        expect((error as BlackboxError).mayHaveBeenApplied).toBe(true);
        expect((error as Error).message).toMatch(MAY_HAVE_BEEN_APPLIED);
        // What a log line shows of the error says it too.
        expect(inspect(error)).toMatch(MAY_HAVE_BEEN_APPLIED);
        expect(String((error as Error).stack)).toMatch(MAY_HAVE_BEEN_APPLIED);
        expectKeyHidden(error, client);
      });
    }
  }

  it('sends a create once when its 200 answer is not JSON, and says it may have been applied', async () => {
    const server = await startTestServer((_req, res) => sendText(res, 200, '<html><title>Captive portal</title></html>', 'text/html'));
    const agent = new AgentClient({ apiKey: KEY, baseUrl: server.url, retries: 5, retryBackoff: FAST });
    const error = await rejectionOf(agent.createTask({ prompt: 'x' }));
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect(error).toMatchObject({ status: 200, mayHaveBeenApplied: true });
    expect((error as Error).message).toMatch(MAY_HAVE_BEEN_APPLIED);
    expect(server.requests).toHaveLength(1);
  });

  it('names the 500 as an InternalServerError with its status, method and path on a create', async () => {
    const server = await startTestServer((_req, res, recorded) => sendJson(res, 500, { error: `boom; ${echo(recorded)}` }));
    const cloud = new CloudClient({ apiKey: KEY, baseUrl: server.url, retries: 3, retryBackoff: FAST });
    const error = await rejectionOf(cloud.createTask({ prompt: 'x' }));
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error).toMatchObject({ status: 500, method: 'POST', path: '/api/tasks', mayHaveBeenApplied: true });
    expect(server.requests).toHaveLength(1);
  });
});

describe('a POST the server cannot have acted on is retried', () => {
  for (const { name, make, post } of POSTS) {
    it(`retries ${name} after a 429 with Retry-After: 0 and resolves with the second answer`, async () => {
      const server = await startTestServer((_req, res, recorded, i) => {
        if (i === 0) sendJson(res, 429, { error: `slow down; ${echo(recorded)}` }, { 'retry-after': '0' });
        else sendJson(res, 200, { id: 'created-1', runId: 'created-1', taskId: 'created-1', status: 'pending' });
      });
      const client = make({ apiKey: KEY, baseUrl: server.url, retries: 3, retryBackoff: FAST });
      await expect(post(client)).resolves.toMatchObject({ status: 'pending' });
      expect(server.requests).toHaveLength(2);
      expect(server.requests.map((r) => r.method)).toEqual(['POST', 'POST']);
    });

    it(`retries ${name} when nothing listens (ECONNREFUSED) and says it was not applied`, async () => {
      const port = await refusedPort();
      let attempts = 0;
      const counting: typeof globalThis.fetch = (input, init) => {
        attempts++;
        return globalThis.fetch(input, init);
      };
      const client = make({ apiKey: KEY, baseUrl: `http://127.0.0.1:${port}`, retries: 2, retryBackoff: FAST, fetch: counting });
      const error = await rejectionOf(post(client));
      expect(error).toBeInstanceOf(ConnectionError);
      expect(attempts).toBe(3);
      expect((error as BlackboxError).mayHaveBeenApplied).toBe(false);
      expect((error as Error).message).not.toMatch(MAY_HAVE_BEEN_APPLIED);
      expectKeyHidden(error, client);
    });
  }

  it('gives up on a POST answered 429 every time with the RateLimitError, not applied', async () => {
    const server = await startTestServer((_req, res, recorded) => sendJson(res, 429, { error: `slow down; ${echo(recorded)}` }, { 'retry-after': '0' }));
    const agent = new AgentClient({ apiKey: KEY, baseUrl: server.url, retries: 2, retryBackoff: FAST });
    const error = await rejectionOf(agent.createTask({ prompt: 'x' }));
    expect(error).toMatchObject({ name: 'RateLimitError', status: 429, mayHaveBeenApplied: false });
    expect((error as Error).message).not.toMatch(MAY_HAVE_BEEN_APPLIED);
    expect(server.requests).toHaveLength(3);
    expectKeyHidden(error, agent);
  });
});

describe('a POST refused by the server', () => {
  for (const { name, make, post } of POSTS) {
    it(`sends ${name} once when it is answered 400, and says it was not applied`, async () => {
      const server = await startTestServer((_req, res, recorded) => sendJson(res, 400, { error: `bad prompt; ${echo(recorded)}` }));
      const client = make({ apiKey: KEY, baseUrl: server.url, retries: 5, retryBackoff: FAST });
      const error = await rejectionOf(post(client));
      expect(error).toBeInstanceOf(BadRequestError);
      expect(server.requests).toHaveLength(1);
      expect((error as BlackboxError).mayHaveBeenApplied).toBe(false);
      expect((error as Error).message).not.toMatch(MAY_HAVE_BEEN_APPLIED);
      expectKeyHidden(error, client);
    });
  }
});

describe('GET and PATCH are retried on transient failures', () => {
  it('retries getStatus (a GET) after two 500s and resolves with the third answer', async () => {
    const server = await startTestServer((_req, res, recorded, i) => {
      if (i < 2) sendJson(res, 500, { error: `oops; ${echo(recorded)}` });
      else sendJson(res, 200, { runId: 'r', status: 'in_progress' });
    });
    const agent = new AgentClient({ apiKey: KEY, baseUrl: server.url, retries: 2, retryBackoff: FAST });
    expect(await agent.getStatus('r')).toEqual({ runId: 'r', status: 'in_progress' });
    expect(server.requests).toHaveLength(3);
  });

  it('retries cancel (a PATCH) after a connection reset and resolves with the second answer', async () => {
    const server = await startTestServer((req, res, _recorded, i) => {
      if (i === 0) req.socket.destroy();
      else sendJson(res, 200, { success: true, status: 'cancelled', message: 'Task run-1 cancelled successfully' });
    });
    const agent = new AgentClient({ apiKey: KEY, baseUrl: server.url, retries: 2, retryBackoff: FAST });
    expect(await agent.cancel('run-1')).toMatchObject({ success: true, status: 'cancelled' });
    expect(server.requests).toHaveLength(2);
    expect(server.requests.map((r) => r.method)).toEqual(['PATCH', 'PATCH']);
  });

  it('retries CloudClient.stop (a PATCH) after a 500 and resolves with the second answer', async () => {
    const server = await startTestServer((_req, res, recorded, i) => {
      if (i === 0) sendJson(res, 500, { error: `oops; ${echo(recorded)}` });
      else sendJson(res, 200, { success: true, message: 'stopped' });
    });
    const cloud = new CloudClient({ apiKey: KEY, baseUrl: server.url, retries: 2, retryBackoff: FAST });
    expect(await cloud.stop('task-1')).toMatchObject({ success: true });
    expect(server.requests).toHaveLength(2);
    expect(server.requests.map((r) => r.method)).toEqual(['PATCH', 'PATCH']);
  });

  it('never says a failed GET may have been applied, whether 500, reset or timeout', async () => {
    const server = await startTestServer((req, res, recorded) => {
      if (recorded.url.includes('/five-hundred/')) sendJson(res, 500, { error: `oops; ${echo(recorded)}` });
      else if (recorded.url.includes('/reset/')) req.socket.destroy();
      // …and /hang/ never answers.
    });
    const agent = new AgentClient({ apiKey: KEY, baseUrl: server.url, retries: 1, retryBackoff: FAST, timeoutMs: 200 });
    const errors = [
      await rejectionOf(agent.getStatus('five-hundred')),
      await rejectionOf(agent.getStatus('reset')),
      await rejectionOf(agent.getStatus('hang')),
    ];
    expect(errors[0]).toBeInstanceOf(InternalServerError);
    expect(errors[1]).toBeInstanceOf(ConnectionError);
    expect(errors[2]).toBeInstanceOf(RequestTimeoutError);
    for (const error of errors) {
      expect((error as BlackboxError).mayHaveBeenApplied).toBe(false);
      expect((error as Error).message).not.toMatch(MAY_HAVE_BEEN_APPLIED);
      expectKeyHidden(error, agent);
    }
    // Each was retried once: two attempts per call.
    expect(server.requests).toHaveLength(6);
  });
});

describe('maxRetryTimeMs', () => {
  it('starts no retry that would wait past the budget: two attempts of a 503 with Retry-After: 1 in 1.5 s', async () => {
    const server = await startTestServer((_req, res, recorded) => sendJson(res, 503, { error: `busy; ${echo(recorded)}` }, { 'retry-after': '1' }));
    const agent = new AgentClient({ apiKey: KEY, baseUrl: server.url, retries: 10, retryBackoff: FAST, maxRetryTimeMs: 1_500 });
    const error = await rejectionOf(agent.getStatus('r'));
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error).toMatchObject({ status: 503, retryAfterMs: 1_000, mayHaveBeenApplied: false });
    // Attempt 1 at ~0 s; its retry waits 1 s (within 1.5 s); attempt 2 at ~1 s; a second wait would end at ~2 s.
    expect(server.requests).toHaveLength(2);
    expectKeyHidden(error, agent);
  });

  it(
    'cuts the attempt timeout to what is left of the budget: one 300 ms attempt against a 30 s timeoutMs',
    async () => {
      const server = await startTestServer(() => {}); // never answers
      const agent = new AgentClient({ apiKey: KEY, baseUrl: server.url, retries: 5, retryBackoff: FAST, timeoutMs: 30_000, maxRetryTimeMs: 300 });
      const error = await rejectionOf(agent.getStatus('r'));
      expect(error).toBeInstanceOf(RequestTimeoutError);
      expect((error as RequestTimeoutError).timeoutMs).toBeLessThanOrEqual(300);
      expect(server.requests).toHaveLength(1);
    },
    10_000,
  );

  it("lets one call's maxRetryTimeMs override the client's", async () => {
    const server = await startTestServer((_req, res) => sendJson(res, 503, { error: 'busy' }, { 'retry-after': '1' }));
    const agent = new AgentClient({ apiKey: KEY, baseUrl: server.url, retries: 10, retryBackoff: FAST });
    const error = await rejectionOf(agent.getStatus('r', { maxRetryTimeMs: 500 }));
    expect(error).toMatchObject({ status: 503 });
    // A 1 s wait does not fit in 0.5 s: no retry at all.
    expect(server.requests).toHaveLength(1);
  });
});

describe('maxRetryAfterMs', () => {
  it(
    'caps a Retry-After of a day on a 429 POST at maxRetryAfterMs: the retry is sent and the create resolves',
    async () => {
      const server = await startTestServer((_req, res, _recorded, i) => {
        if (i === 0) sendJson(res, 429, { error: 'Too many requests' }, { 'retry-after': '86400' });
        else sendJson(res, 200, { id: 'run-9', status: 'pending' });
      });
      // The budget (default 2 min) must be checked against the capped wait, not the day the server asked for.
      const agent = new AgentClient({ apiKey: KEY, baseUrl: server.url, retries: 2, retryBackoff: FAST, maxRetryAfterMs: 50 });
      await expect(agent.createTask({ prompt: 'x' })).resolves.toMatchObject({ id: 'run-9' });
      expect(server.requests).toHaveLength(2);
    },
    5_000,
  );
});

describe('runAttempt', () => {
  it("runs each attempt in the limiter's slot and waits for a retry outside it: another call goes first", async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const server = await startTestServer((_req, res, recorded) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      res.once('finish', () => inFlight--);
      const isA = recorded.url.includes('/run-a/');
      const aSeen = server.requests.filter((r) => r.url.includes('/run-a/')).length;
      if (isA && aSeen === 1) {
        // A's first attempt holds its slot for a while, then is told to come back in 1 s.
        setTimeout(() => sendJson(res, 429, { error: 'Too many requests' }, { 'retry-after': '1' }), 100);
      } else {
        sendJson(res, 200, { runId: isA ? 'run-a' : 'run-b', status: 'in_progress' });
      }
    });
    const limit = pLimit(1);
    const attemptsRun: string[] = [];
    const slotFor =
      (name: string) =>
      <T>(attempt: () => Promise<T>): Promise<T> => {
        attemptsRun.push(name);
        return limit(attempt);
      };
    const agent = new AgentClient({ apiKey: KEY, baseUrl: server.url, retries: 2, retryBackoff: FAST });
    const a = agent.getStatus('run-a', { runAttempt: slotFor('A') });
    await waitFor(() => server.requests.length === 1, "A's first attempt reached the server");
    const b = agent.getStatus('run-b', { runAttempt: slotFor('B') });
    await expect(b).resolves.toMatchObject({ runId: 'run-b' });
    await expect(a).resolves.toMatchObject({ runId: 'run-a' });
    const order = server.requests.map((r) => (r.url.includes('/run-a/') ? 'A' : 'B'));
    // B was sent after A's first attempt ended (one slot) and before A's retry (the 1 s wait held no slot).
    expect(order).toEqual(['A', 'B', 'A']);
    expect(maxInFlight).toBe(1);
    expect(attemptsRun).toEqual(['A', 'B', 'A']);
  });

  // BUG (reported to the lead, not fixed here): RequestCore.request awaits `runAttempt(...)` without racing
  // the caller's signal, so a call aborted while it waits for a slot rejects only when the slot frees up.
  it('rejects a call aborted while it waits for a runAttempt slot at once, without waiting for the slot or sending it', async () => {
    // A's attempt holds the only slot until its 1.5 s timeout; B waits behind it and is aborted.
    const server = await startTestServer(() => {});
    const limit = pLimit(1);
    const runAttempt = <T>(attempt: () => Promise<T>): Promise<T> => limit(attempt);
    const agent = new AgentClient({ apiKey: KEY, baseUrl: server.url, retries: 0, timeoutMs: 1_500 });
    const settled: string[] = [];
    const a = agent.getStatus('run-a', { runAttempt }).then(
      () => settled.push('A resolved'),
      (error: unknown) => settled.push(`A ${(error as Error).name}`),
    );
    await waitFor(() => server.requests.length === 1, "A's attempt reached the server");
    const controller = new AbortController();
    const reason = new Error('caller went away');
    const b = agent.getStatus('run-b', { runAttempt, signal: controller.signal }).then(
      () => settled.push('B resolved'),
      (error: unknown) => settled.push(error === reason ? 'B aborted' : `B ${String(error)}`),
    );
    controller.abort(reason);
    await Promise.all([a, b]);
    expect(settled).toEqual(['B aborted', 'A RequestTimeoutError']);
    expect(server.requests.map((r) => r.url)).toEqual(['/api/v1/tasks/run-a/status']);
  });
});

describe('maxResponseBytes counts decoded bytes', () => {
  /** `{"padding":"` followed by spaces, `decodedBytes` in all, gzipped at level 9 (never the whole text in memory). */
  async function gzipBomb(decodedBytes: number): Promise<Buffer> {
    const out: Buffer[] = [];
    const spaces = Buffer.alloc(MiB, 0x20);
    const head = Buffer.from('{"padding":"');
    await pipeline(
      async function* () {
        yield head;
        yield spaces.subarray(head.length);
        for (let sent = MiB; sent < decodedBytes; sent += MiB) yield spaces;
      },
      createGzip({ level: 9 }),
      async function (compressed: AsyncIterable<Buffer>) {
        for await (const chunk of compressed) out.push(chunk);
      },
    );
    return Buffer.concat(out);
  }

  it('rejects a small gzip body that decodes to 256 MiB without reading more than the limit and a chunk', async () => {
    const compressed = await gzipBomb(256 * MiB);
    const server = await startTestServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': compressed.length });
      res.end(compressed);
    });
    const counting = countingFetch();
    const agent = new AgentClient({ apiKey: KEY, baseUrl: server.url, maxResponseBytes: MiB, retries: 0, fetch: counting.fetch });
    const memory = (): number => {
      const { heapUsed, arrayBuffers } = process.memoryUsage();
      return heapUsed + arrayBuffers;
    };
    const before = memory();
    const error = await rejectionOf(agent.getStatus('r'));
    const growth = memory() - before;
    const decodedPulled = counting.bytesRead[0] ?? 0;
    console.info(
      `[figures] gzip body ${compressed.length} bytes (decodes to ${256 * MiB}); decoded bytes pulled ${decodedPulled}; ` +
        `heapUsed+arrayBuffers growth ${growth} bytes (${(growth / MiB).toFixed(2)} MiB)`,
    );
    // Cut off at the limit: what was pulled through the body is the limit and at most one more chunk.
    expect(decodedPulled).toBeGreaterThan(MiB);
    expect(decodedPulled).toBeLessThanOrEqual(MiB + 256 * 1024);
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect((error as Error).message).toContain(`larger than ${MiB} bytes`);
    // The growth counts garbage as well as what is held (undici copies every decoded chunk, and the first
    // request of a worker loads code): 3–5 MiB measured, so "< 2 × the limit" cannot be asserted. Printed
    // above; only a gross bound (reading the whole body builds a 256 MiB string) is asserted. A GC only lowers it.
    expect(growth).toBeLessThan(64 * MiB);
  });
});

describe('a shared AbortSignal', () => {
  it('carries 50 concurrent calls with one abort listener and no MaxListenersExceededWarning', async () => {
    const server = await startTestServer((_req, res) => {
      setTimeout(() => sendJson(res, 200, { runId: 'r', status: 'in_progress' }), 50);
    });
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning);
    };
    process.on('warning', onWarning);
    try {
      const controller = new AbortController();
      const { signal } = controller;
      const agent = new AgentClient({ apiKey: KEY, baseUrl: server.url, retries: 0 });
      const calls = Array.from({ length: 50 }, (_, i) => agent.getStatus(`run-${i}`, { signal }));
      const settled = Promise.allSettled(calls);
      await waitFor(() => server.requests.length === 50, 'all 50 requests reached the server');
      const listenersInFlight = getEventListeners(signal, 'abort').length;
      const results = await settled;
      // A warning is emitted on the next tick: let it arrive before looking.
      await turn();
      await turn();
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message)).toEqual([]);
      expect(results.map((r) => r.status)).toEqual(Array(50).fill('fulfilled'));
      // While all 50 were in flight, the signal had one listener (the hub's); none is left after them.
      expect(listenersInFlight).toBe(1);
      expect(getEventListeners(signal, 'abort')).toHaveLength(0);
      // Aborting after everything finished reaches nobody and sends nothing.
      controller.abort(new Error('late'));
      await turn();
      expect(server.requests).toHaveLength(50);
      await expect(agent.getStatus('run-x', { signal })).rejects.toThrow('late');
      expect(server.requests).toHaveLength(50);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('the API key', () => {
  it('is in no error of a POST or a GET, even from a server that echoes the Authorization header in its body', async () => {
    const server = await startTestServer((_req, res, recorded) => {
      const status = Number(/\/(\d{3})(?:\/|$)/.exec(recorded.url)?.[1] ?? 500);
      if (status === 502) sendText(res, 502, `<html><head><title>${echo(recorded)}</title></head><body>${echo(recorded)}</body></html>`, 'text/html');
      else sendJson(res, status, { error: echo(recorded), message: echo(recorded) }, { 'retry-after': '0' });
    });
    const agent = new AgentClient({ apiKey: KEY, baseUrl: server.url, retries: 1, retryBackoff: FAST });
    const cloud = new CloudClient({ apiKey: KEY, baseUrl: server.url, retries: 1, retryBackoff: FAST });
    const errors: [unknown, unknown][] = [
      [await rejectionOf(agent.continueTask('500', { prompt: 'x' })), agent],
      [await rejectionOf(agent.continueTask('400', { prompt: 'x' })), agent],
      [await rejectionOf(agent.continueTask('429', { prompt: 'x' })), agent],
      [await rejectionOf(agent.continueTask('502', { prompt: 'x' })), agent],
      [await rejectionOf(cloud.continueTask('500', { currentPrompt: 'x' })), cloud],
      [await rejectionOf(agent.getStatus('503')), agent],
      [await rejectionOf(cloud.stop('500')), cloud],
    ];
    // The server did receive the key and echo it: the check below could fail.
    expect(server.requests.every((r) => r.headers.authorization === `Bearer ${KEY}`)).toBe(true);
    for (const [error, client] of errors) {
      expect(error).toBeInstanceOf(BlackboxError);
      expect(bodyText(error)).toContain('[redacted]');
      expectKeyHidden(error, client);
    }
    expect(errors.map(([error]) => (error as BlackboxError).mayHaveBeenApplied)).toEqual([true, false, false, true, true, false, false]);
  });
});
