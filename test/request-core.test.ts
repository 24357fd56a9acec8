import type { ServerResponse } from 'node:http';
import { inspect } from 'node:util';
import type FakeTimers from '@sinonjs/fake-timers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AgentClient,
  ApiError,
  AuthenticationError,
  BadRequestError,
  BlackboxError,
  CloudClient,
  ConnectionError,
  InternalServerError,
  InvalidResponseError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  RequestTimeoutError,
  ValidationError,
} from '../src/index.js';
import { createSimulator, type Simulator, type SimulatorFaultKind, type SimulatorFaults } from '../src/simulator/index.js';
import {
  advance,
  captureError,
  clearEnv,
  closeTestServers,
  drive,
  echoingAuthorization,
  expectNoSecret,
  installClock,
  refusedPort,
  rejectionOf,
  sendJson,
  sendText,
  startTestServer,
  waitFor,
} from './helpers/clients-http.js';

const FAST = { initialMs: 1, maxMs: 2, factor: 2, jitter: 0 };
/** A fixed 10 ms backoff: any longer wait in a test comes from Retry-After. */
const TEN_MS = { initialMs: 10, maxMs: 10, factor: 1, jitter: 0 };
const KEY = 'sk-test-SECRET-d41d8cd98f00b204e9800998ecf8427e';

let clock: FakeTimers.Clock | undefined;
const simulators: Simulator[] = [];

async function simulator(faults: SimulatorFaults = {}): Promise<Simulator> {
  const sim = await createSimulator({ seed: 3, faults, defaultDurationMs: 60_000 });
  simulators.push(sim);
  return sim;
}

function fakeTimers(options: { fakeDate?: boolean; now?: number } = {}): FakeTimers.Clock {
  clock = installClock(options);
  return clock;
}

afterEach(async () => {
  clock?.uninstall();
  clock = undefined;
  await Promise.all(simulators.splice(0).map((sim) => sim.close()));
  await closeTestServers();
});

describe('retries', () => {
  const transient: [string, SimulatorFaults, SimulatorFaultKind, (abstract new (...args: never[]) => unknown)[]][] = [
    ['a 500', { errorRate: 1 }, 'error', [InternalServerError]],
    ['an HTML 502', { htmlErrorRate: 1 }, 'htmlError', [InternalServerError]],
    ['a 429', { rate429: 1, retryAfterSeconds: 1 }, 'rate429', [RateLimitError]],
    ['a connection reset', { resetRate: 1 }, 'reset', [ConnectionError]],
    ['a timeout', { hangRate: 1 }, 'hang', [RequestTimeoutError]],
  ];

  for (const [what, faults, kind] of transient) {
    it(`retries a request after ${what} and succeeds when a later attempt succeeds`, async () => {
      const sim = await simulator();
      const fake = fakeTimers();
      const { runId } = sim.createAgentRun();
      const agent = new AgentClient({ apiKey: sim.agentKey, baseUrl: sim.url, timeoutMs: 5_000, retryBackoff: { initialMs: 500, maxMs: 500, jitter: 0 } });
      sim.setFaults(faults);
      const pending = agent.getStatus(runId);
      // The retry waits on the fake clock: the fault is gone before the second attempt is sent.
      await waitFor(() => sim.ledger.faults[kind] === 1, `the first attempt met ${what}`);
      sim.clearFaults();
      const status = await drive(fake, pending);
      expect(status.runId).toBe(runId);
      expect(sim.ledger.byRoute.get('agent.status')).toBe(2);
      expect(sim.ledger.faults[kind]).toBe(1);
    });
  }

  for (const [what, faults, , types] of transient) {
    it(`makes exactly one attempt with retries: 0 on ${what}`, async () => {
      const sim = await simulator(faults);
      const agent = new AgentClient({ apiKey: sim.agentKey, baseUrl: sim.url, retries: 0, timeoutMs: 200 });
      const error = await rejectionOf(agent.listTasks());
      expect(types.some((type) => error instanceof type), String(error)).toBe(true);
      expect(sim.ledger.byRoute.get('agent.list')).toBe(1);
    });
  }

  it('makes retries + 1 attempts and then rejects with the last error', async () => {
    const sim = await simulator({ errorRate: 1 });
    const cloud = new CloudClient({ apiKey: sim.cloudKey, baseUrl: sim.url, retries: 4, retryBackoff: FAST });
    await expect(cloud.listTasks()).rejects.toBeInstanceOf(InternalServerError);
    expect(sim.ledger.byRoute.get('cloud.list')).toBe(5);
  });

  it('retries a cancel (a PATCH) after a reset and cancels the run once', async () => {
    const sim = await simulator();
    const fake = fakeTimers();
    const { runId } = sim.createAgentRun();
    const agent = new AgentClient({ apiKey: sim.agentKey, baseUrl: sim.url, retryBackoff: { initialMs: 200, maxMs: 200, jitter: 0 } });
    sim.setFaults({ resetRate: 1 });
    const cancelling = agent.cancel(runId);
    await waitFor(() => sim.ledger.faults.reset === 1);
    sim.clearFaults();
    expect(await drive(fake, cancelling)).toEqual({ success: true, status: 'cancelled', message: `Task ${runId} cancelled successfully` });
    expect(sim.ledger.byRoute.get('agent.update')).toBe(2);
    expect(sim.ledger.cancels.get(runId)).toBe(1);
  });

  it('retries a 408 and a 503 like any transient failure', async () => {
    const server = await startTestServer((_req, res, _r, i) => {
      if (i === 0) sendJson(res, 408, { error: 'Request Timeout' });
      else if (i === 1) sendJson(res, 503, { error: 'Service Unavailable' });
      else sendJson(res, 200, { runId: 'r', status: 'in_progress' });
    });
    const agent = new AgentClient({ apiKey: KEY, baseUrl: server.url, retries: 2, retryBackoff: FAST });
    expect(await agent.getStatus('r')).toEqual({ runId: 'r', status: 'in_progress' });
    expect(server.requests).toHaveLength(3);
  });

  const final: [number, typeof ApiError][] = [
    [400, BadRequestError],
    [401, AuthenticationError],
    [403, PermissionDeniedError],
    [404, NotFoundError],
    [409, ApiError],
    [422, ApiError],
  ];
  for (const [status, type] of final) {
    it(`never retries a ${status}`, async () => {
      const server = await startTestServer((_req, res) => sendJson(res, status, { error: `status ${status}` }));
      const agent = new AgentClient({ apiKey: KEY, baseUrl: server.url, retries: 5, retryBackoff: FAST });
      const error = await rejectionOf(agent.cancel('run-1'));
      expect(error).toBeInstanceOf(type);
      expect((error as ApiError).status).toBe(status);
      expect((error as ApiError).body).toEqual({ error: `status ${status}` });
      expect(server.requests).toHaveLength(1);
    });
  }

  it('maps a status with no class of its own to a plain ApiError', async () => {
    const server = await startTestServer((_req, res) => sendJson(res, 418, { error: "I'm a teapot" }));
    const error = await rejectionOf(new AgentClient({ apiKey: KEY, baseUrl: server.url }).getTask('t'));
    expect(error).toBeInstanceOf(ApiError);
    expect((error as Error).constructor).toBe(ApiError);
    expect(error).toMatchObject({ status: 418, method: 'GET', path: '/api/v1/tasks/t', body: { error: "I'm a teapot" } });
  });
});

describe('Retry-After', () => {
  /** A server that answers 429 (or `status`) with `retryAfter()` `times` times, then 200; it stamps each arrival with the fake clock. */
  async function limitedServer(fake: FakeTimers.Clock, retryAfter: () => string, times = 1, status = 429) {
    const arrivals: number[] = [];
    const server = await startTestServer((_req, res, _r, i) => {
      arrivals.push(fake.now);
      if (i < times) sendJson(res, status, { error: 'Too many requests' }, { 'retry-after': retryAfter() });
      else sendJson(res, 200, { runId: 'r', status: 'in_progress' });
    });
    return { server, arrivals };
  }

  it('waits at least the Retry-After seconds before the next attempt', async () => {
    const fake = fakeTimers();
    const { server, arrivals } = await limitedServer(fake, () => '30');
    const agent = new AgentClient({ apiKey: KEY, baseUrl: server.url, retryBackoff: TEN_MS });
    expect(await drive(fake, agent.getStatus('r'), 250)).toMatchObject({ status: 'in_progress' });
    expect(arrivals).toHaveLength(2);
    const gap = (arrivals[1] ?? 0) - (arrivals[0] ?? 0);
    expect(gap).toBeGreaterThanOrEqual(30_000);
    expect(gap).toBeLessThan(40_000);
  });

  it('waits until the HTTP date of Retry-After before the next attempt', async () => {
    const fake = fakeTimers({ fakeDate: true, now: Date.UTC(2025, 5, 1, 8, 0, 0) });
    const { server, arrivals } = await limitedServer(fake, () => new Date(Date.now() + 45_000).toUTCString());
    const cloud = new CloudClient({ apiKey: KEY, baseUrl: server.url, retryBackoff: TEN_MS });
    await drive(fake, cloud.getStatus('t'), 250);
    expect(arrivals).toHaveLength(2);
    const gap = (arrivals[1] ?? 0) - (arrivals[0] ?? 0);
    expect(gap).toBeGreaterThanOrEqual(45_000);
    expect(gap).toBeLessThan(55_000);
  });

  it('treats Retry-After as a floor: a longer backoff still applies', async () => {
    const fake = fakeTimers();
    const { server, arrivals } = await limitedServer(fake, () => '1');
    const agent = new AgentClient({ apiKey: KEY, baseUrl: server.url, retryBackoff: { initialMs: 8_000, maxMs: 8_000, jitter: 0 } });
    await drive(fake, agent.getStatus('r'), 100);
    expect((arrivals[1] ?? 0) - (arrivals[0] ?? 0)).toBeGreaterThanOrEqual(8_000);
  });

  it('caps a Retry-After in seconds at maxRetryAfterMs', async () => {
    const fake = fakeTimers();
    const { server, arrivals } = await limitedServer(fake, () => '3600');
    const agent = new AgentClient({ apiKey: KEY, baseUrl: server.url, retryBackoff: TEN_MS, maxRetryAfterMs: 2_000 });
    await drive(fake, agent.getStatus('r'), 100);
    const gap = (arrivals[1] ?? 0) - (arrivals[0] ?? 0);
    expect(gap).toBeGreaterThanOrEqual(2_000);
    expect(gap).toBeLessThan(10_000);
  });

  it('caps a Retry-After HTTP date at maxRetryAfterMs', async () => {
    const fake = fakeTimers({ fakeDate: true, now: Date.UTC(2025, 5, 1, 8, 0, 0) });
    const { server, arrivals } = await limitedServer(fake, () => new Date(Date.now() + 86_400_000).toUTCString());
    const agent = new AgentClient({ apiKey: KEY, baseUrl: server.url, retryBackoff: TEN_MS, maxRetryAfterMs: 3_000 });
    await drive(fake, agent.getStatus('r'), 100);
    const gap = (arrivals[1] ?? 0) - (arrivals[0] ?? 0);
    expect(gap).toBeGreaterThanOrEqual(3_000);
    expect(gap).toBeLessThan(10_000);
  });

  it('ignores a Retry-After it cannot read and falls back to the backoff', async () => {
    const fake = fakeTimers();
    const { server, arrivals } = await limitedServer(fake, () => 'soon, maybe', 2);
    const agent = new AgentClient({ apiKey: KEY, baseUrl: server.url, retryBackoff: TEN_MS });
    await drive(fake, agent.getStatus('r'), 10);
    expect(arrivals).toHaveLength(3);
    expect((arrivals[2] ?? 0) - (arrivals[0] ?? 0)).toBeLessThan(1_000);
  });

  it('honours the Retry-After of a 503 as well', async () => {
    const fake = fakeTimers();
    const { server, arrivals } = await limitedServer(fake, () => '20', 1, 503);
    const agent = new AgentClient({ apiKey: KEY, baseUrl: server.url, retryBackoff: TEN_MS });
    await drive(fake, agent.getStatus('r'), 250);
    expect(arrivals).toHaveLength(2);
    expect((arrivals[1] ?? 0) - (arrivals[0] ?? 0)).toBeGreaterThanOrEqual(20_000);
  });

  it("sends no retry before the simulator's Retry-After has passed, then succeeds", async () => {
    const sim = await simulator();
    const fake = fakeTimers();
    const agent = new AgentClient({ apiKey: sim.agentKey, baseUrl: sim.url, retryBackoff: TEN_MS });
    sim.setFaults({ rate429: 1, retryAfterSeconds: 30 });
    const listing = agent.listTasks();
    await waitFor(() => sim.ledger.faults.rate429 === 1);
    sim.clearFaults();
    await advance(fake, 29_900, 100);
    expect(sim.ledger.byRoute.get('agent.list')).toBe(1);
    expect(await drive(fake, listing)).toMatchObject({ tasks: [], page: 1 });
    expect(sim.ledger.byRoute.get('agent.list')).toBe(2);
  });

  it('gives up with the RateLimitError of the last attempt, its retryAfterMs the uncapped hint', async () => {
    const fake = fakeTimers();
    const { server, arrivals } = await limitedServer(fake, () => '120', 10);
    const agent = new AgentClient({ apiKey: KEY, baseUrl: server.url, retries: 2, retryBackoff: TEN_MS, maxRetryAfterMs: 1_000 });
    const error = await rejectionOf(drive(fake, agent.getStatus('r'), 100));
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ status: 429, retryAfterMs: 120_000, method: 'GET', path: '/api/v1/tasks/r/status' });
    expect(arrivals).toHaveLength(3);
  });
});

describe('timeouts', () => {
  it('rejects with RequestTimeoutError after timeoutMs when the server never answers', async () => {
    const sim = await simulator({ hangRate: 1 });
    const agent = new AgentClient({ apiKey: sim.agentKey, baseUrl: sim.url, timeoutMs: 200, retries: 0 });
    const error = await rejectionOf(agent.getTask('some-run'));
    expect(error).toBeInstanceOf(RequestTimeoutError);
    expect(error).toBeInstanceOf(BlackboxError);
    expect(error).not.toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ name: 'RequestTimeoutError', timeoutMs: 200, method: 'GET', path: '/api/v1/tasks/some-run' });
    expect((error as Error).message).toContain('200 ms');
    expect(sim.ledger.faults.hang).toBe(1);
  });

  it('times out when the body stalls halfway, after the headers arrived', async () => {
    const server = await startTestServer((_req, res) => {
      const body = JSON.stringify({ runId: 'r', status: 'in_progress', progress: 50 });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.write(body.slice(0, 20));
      // …and never the rest.
    });
    const agent = new AgentClient({ apiKey: KEY, baseUrl: server.url, timeoutMs: 200, retries: 0 });
    const error = await rejectionOf(agent.getStatus('r'));
    expect(error).toBeInstanceOf(RequestTimeoutError);
    expect(error).toMatchObject({ timeoutMs: 200, path: '/api/v1/tasks/r/status' });
  });

  it("lets one call's timeoutMs override the client's", async () => {
    const sim = await simulator({ hangRate: 1 });
    const cloud = new CloudClient({ apiKey: sim.cloudKey, baseUrl: sim.url, timeoutMs: 60_000, retries: 0 });
    const error = await rejectionOf(cloud.getStatus('t', { timeoutMs: 150 }));
    expect(error).toMatchObject({ name: 'RequestTimeoutError', timeoutMs: 150 });
  });

  it('limits each attempt, not the whole call: every timed-out attempt is retried', async () => {
    const sim = await simulator({ hangRate: 1 });
    const fake = fakeTimers();
    const agent = new AgentClient({ apiKey: sim.agentKey, baseUrl: sim.url, timeoutMs: 1_000, retries: 2, retryBackoff: TEN_MS });
    const error = await rejectionOf(drive(fake, agent.listTasks()));
    expect(error).toBeInstanceOf(RequestTimeoutError);
    expect(sim.ledger.faults.hang).toBe(3);
  });
});

describe('abort', () => {
  const reasons: [string, () => unknown][] = [
    ['an Error', () => new Error('caller went away')],
    ['a string', () => 'shutting down'],
    ['a plain object', () => ({ why: 'deadline' })],
  ];

  for (const [what, make] of reasons) {
    it(`rejects with exactly signal.reason (${what}) when the signal is aborted before the call, sending nothing`, async () => {
      const sim = await simulator();
      const agent = new AgentClient({ apiKey: sim.agentKey, baseUrl: sim.url });
      const reason = make();
      const signal = AbortSignal.abort(reason);
      await expect(agent.getStatus('r', { signal })).rejects.toBe(reason);
      await expect(agent.createTask({ prompt: 'x' }, { signal })).rejects.toBe(reason);
      expect(sim.ledger.requests).toBe(0);
    });

    it(`rejects with exactly signal.reason (${what}) when aborted during a request, and sends no further attempt`, async () => {
      const sim = await simulator({ hangRate: 1 });
      const fake = fakeTimers();
      const cloud = new CloudClient({ apiKey: sim.cloudKey, baseUrl: sim.url, retries: 3, retryBackoff: TEN_MS });
      const controller = new AbortController();
      const pending = cloud.stop('t', { signal: controller.signal });
      await waitFor(() => sim.ledger.faults.hang === 1, 'the request reached the server');
      const reason = make();
      controller.abort(reason);
      await expect(pending).rejects.toBe(reason);
      await advance(fake, 120_000, 1_000);
      expect(sim.ledger.requests).toBe(1);
      await waitFor(() => sim.ledger.inFlight === 0, 'the aborted request was closed');
    });
  }

  it('rejects with the default AbortError reason when abort() is called without one', async () => {
    const sim = await simulator({ hangRate: 1 });
    const agent = new AgentClient({ apiKey: sim.agentKey, baseUrl: sim.url });
    const controller = new AbortController();
    const pending = agent.listTasks({}, { signal: controller.signal });
    await waitFor(() => sim.ledger.faults.hang === 1);
    controller.abort();
    const error = await rejectionOf(pending);
    expect(error).toBe(controller.signal.reason);
    expect(error).toMatchObject({ name: 'AbortError' });
  });

  it('rejects with exactly signal.reason when aborted during the delay before a retry, and sends no further attempt', async () => {
    const sim = await simulator({ errorRate: 1 });
    const fake = fakeTimers();
    const agent = new AgentClient({ apiKey: sim.agentKey, baseUrl: sim.url, retries: 5, retryBackoff: { initialMs: 10_000, maxMs: 10_000, jitter: 0 } });
    const controller = new AbortController();
    const pending = agent.getStatus('r', { signal: controller.signal });
    await waitFor(() => sim.ledger.faults.error === 1, 'the first attempt failed');
    await advance(fake, 1_000);
    expect(sim.ledger.requests).toBe(1);
    const reason = new Error('stop waiting');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    await advance(fake, 120_000, 1_000);
    expect(sim.ledger.requests).toBe(1);
  });

  it('rejects with exactly signal.reason when aborted while the body is being read', async () => {
    const server = await startTestServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"runId":"r",');
    });
    const agent = new AgentClient({ apiKey: KEY, baseUrl: server.url, retries: 3, retryBackoff: FAST });
    const controller = new AbortController();
    const pending = agent.getTask('r', { signal: controller.signal });
    await waitFor(() => server.requests.length === 1);
    const reason = { code: 'CALLER_GONE' };
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(server.requests).toHaveLength(1);
  });

  it('is not confused with a timeout: an abort is never a RequestTimeoutError and is never retried', async () => {
    const sim = await simulator({ hangRate: 1 });
    const agent = new AgentClient({ apiKey: sim.agentKey, baseUrl: sim.url, timeoutMs: 60_000, retries: 3, retryBackoff: FAST });
    const controller = new AbortController();
    const pending = agent.getTask('r', { signal: controller.signal });
    await waitFor(() => sim.ledger.faults.hang === 1);
    controller.abort('bye');
    const error = await rejectionOf(pending);
    expect(error).toBe('bye');
    expect(sim.ledger.requests).toBe(1);
  });
});

describe('bad responses', () => {
  async function answering(write: (res: ServerResponse) => void) {
    const server = await startTestServer((_req, res) => write(res));
    return { server, agent: new AgentClient({ apiKey: KEY, baseUrl: server.url, retries: 2, retryBackoff: FAST }) };
  }

  it('rejects truncated JSON on a 200 with InvalidResponseError, keeping the raw text, without retrying', async () => {
    const { server, agent } = await answering((res) => sendText(res, 200, '{"runId":"r","status":"in_prog', 'application/json'));
    const error = await rejectionOf(agent.getStatus('r'));
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toBeInstanceOf(BlackboxError);
    expect(error).toMatchObject({ status: 200, method: 'GET', path: '/api/v1/tasks/r/status', body: '{"runId":"r","status":"in_prog' });
    expect(server.requests).toHaveLength(1);
  });

  it('rejects an empty 200 body with InvalidResponseError', async () => {
    const { agent } = await answering((res) => sendText(res, 200, '', 'application/json'));
    const error = await rejectionOf(agent.cancel('r'));
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect(error).toMatchObject({ status: 200, method: 'PATCH' });
    expect((error as Error).message).toContain('empty');
  });

  it('rejects a 200 without any body (a 204 too) with InvalidResponseError', async () => {
    for (const status of [200, 204]) {
      const { agent } = await answering((res) => {
        res.writeHead(status);
        res.end();
      });
      expect(await rejectionOf(agent.getTask('r'))).toBeInstanceOf(InvalidResponseError);
    }
  });

  it('rejects an HTML 200 page with InvalidResponseError', async () => {
    const { agent } = await answering((res) => sendText(res, 200, '<!doctype html><title>Login</title><p>Please sign in</p>', 'text/html'));
    const error = await rejectionOf(agent.listTasks());
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect(error).toMatchObject({ status: 200 });
  });

  it('rejects a 200 whose JSON is not an object (an array, a number, a string, null) with InvalidResponseError', async () => {
    const accepted: string[] = [];
    for (const text of ['[]', '[{"runId":"r"}]', '42', '"ok"', 'null', 'true']) {
      const { agent } = await answering((res) => sendText(res, 200, text, 'application/json'));
      const outcome = await agent.getStatus('r').then(
        () => undefined,
        (error: unknown) => error,
      );
      if (!(outcome instanceof InvalidResponseError)) accepted.push(text);
    }
    expect(accepted).toEqual([]);
  });

  it('rejects a streamed body over maxResponseBytes with InvalidResponseError, without reading it all', async () => {
    const total = 256 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let written = 0;
    let closed = false;
    const server = await startTestServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.once('close', () => (closed = true));
      const pump = (): void => {
        while (!closed && written < total) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        if (!closed) res.end();
      };
      res.write('{"padding":"');
      pump();
    });
    const agent = new AgentClient({ apiKey: KEY, baseUrl: server.url, maxResponseBytes: 1024 * 1024 });
    const error = await rejectionOf(agent.getTask('r'));
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect((error as Error).message).toContain('1048576');
    expect(error).toMatchObject({ status: 200, body: undefined });
    await waitFor(() => closed, 'the client dropped the connection');
    expect(written).toBeLessThan(total / 4);
    expect(server.requests).toHaveLength(1);
  });

  it('rejects a declared Content-Length over maxResponseBytes at once', async () => {
    const { agent } = await answering((res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(512 * 1024 * 1024) });
      res.write('{"a":"');
    });
    const small = new AgentClient({ apiKey: KEY, baseUrl: agent.baseUrl, maxResponseBytes: 4096, retries: 0 });
    expect(await rejectionOf(small.getTask('r'))).toBeInstanceOf(InvalidResponseError);
  });

  it('accepts a body of exactly maxResponseBytes', async () => {
    const body = JSON.stringify({ runId: 'r', pad: 'x'.repeat(1000) });
    const { agent } = await answering((res) => sendText(res, 200, body, 'application/json'));
    const exact = new AgentClient({ apiKey: KEY, baseUrl: agent.baseUrl, maxResponseBytes: Buffer.byteLength(body) });
    expect(await exact.getTask('r')).toMatchObject({ runId: 'r' });
  });

  for (const status of [301, 302, 303, 307, 308]) {
    it(`does not follow a ${status} redirect to another origin: the other origin receives nothing and the call fails with a typed ApiError`, async () => {
      const other = await startTestServer((_req, res) => sendJson(res, 200, { stolen: true }));
      const server = await startTestServer((_req, res) => {
        res.writeHead(status, { location: `${other.url}/api/v1/tasks/r` });
        res.end();
      });
      const agent = new AgentClient({ apiKey: KEY, baseUrl: server.url, retries: 2, retryBackoff: FAST });
      const error = await rejectionOf(agent.cancel('r'));
      expect(error).toBeInstanceOf(ApiError);
      expect(error).toBeInstanceOf(BlackboxError);
      expect(error).toMatchObject({ status, method: 'PATCH', path: '/api/v1/tasks/r' });
      expect(other.requests).toEqual([]);
      expect(server.requests).toHaveLength(1);
    });
  }

  it('reads error bodies shaped {error: {code, message}}, {message} and plain text into the message', async () => {
    const bodies: [number, string, string, RegExp][] = [
      [400, JSON.stringify({ error: { code: 'invalid_action', message: 'Only stop is supported' } }), 'application/json', /Only stop is supported.*invalid_action/],
      [404, JSON.stringify({ message: 'No task here' }), 'application/json', /No task here/],
      [500, 'upstream exploded', 'text/plain', /upstream exploded/],
      [503, '', 'text/plain', /^503 GET \/api\/tasks\/t$/],
    ];
    for (const [status, text, type, pattern] of bodies) {
      const server = await startTestServer((_req, res) => sendText(res, status, text, type));
      const cloud = new CloudClient({ apiKey: 'bb_x', baseUrl: server.url, retries: 0 });
      const error = await rejectionOf(cloud.getTask('t'));
      expect((error as ApiError).status).toBe(status);
      expect((error as Error).message).toMatch(pattern);
    }
  });

  it('keeps a huge error body out of the message (truncated) while the body stays available', async () => {
    const long = 'e'.repeat(5_000);
    const server = await startTestServer((_req, res) => sendJson(res, 400, { error: long }));
    const error = await rejectionOf(new AgentClient({ apiKey: KEY, baseUrl: server.url }).listTasks());
    expect((error as Error).message.length).toBeLessThan(500);
    expect((error as ApiError).body).toEqual({ error: long });
  });
});

describe('connection failures', () => {
  it('rejects with ConnectionError, holding the network error as cause, when the connection is refused, after retrying', async () => {
    const port = await refusedPort();
    let attempts = 0;
    const agent = new AgentClient({
      apiKey: KEY,
      baseUrl: `http://127.0.0.1:${port}`,
      retries: 2,
      retryBackoff: FAST,
      fetch: (input, init) => {
        attempts++;
        return fetch(input, init);
      },
    });
    const error = await rejectionOf(agent.getStatus('r'));
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error).toBeInstanceOf(BlackboxError);
    expect(error).not.toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ name: 'ConnectionError', method: 'GET', path: '/api/v1/tasks/r/status' });
    expect((error as Error).cause).toBeDefined();
    expect(attempts).toBe(3);
  });

  it('rejects with ConnectionError when the server resets the connection', async () => {
    const sim = await simulator({ resetRate: 1 });
    const cloud = new CloudClient({ apiKey: sim.cloudKey, baseUrl: sim.url, retries: 0 });
    expect(await rejectionOf(cloud.createTask({ prompt: 'x' }))).toBeInstanceOf(ConnectionError);
    expect(sim.ledger.faults.reset).toBe(1);
  });
});

describe('key redaction', () => {
  const failures: [string, () => Promise<{ error: unknown; client: unknown }>][] = [
    [
      'a 401 for a wrong key, quoted back in the answer',
      async () => {
        const sim = await simulator();
        const client = new AgentClient({ apiKey: KEY, baseUrl: sim.url, fetch: echoingAuthorization() });
        return { client, error: await rejectionOf(client.getStatus('r')) };
      },
    ],
    [
      'a 500 whose JSON body echoes the Authorization header',
      async () => {
        const server = await startTestServer((req, res) => sendJson(res, 500, { error: `Bad credentials: ${req.headers.authorization}`, headers: req.headers }));
        const client = new AgentClient({ apiKey: KEY, baseUrl: server.url, retries: 1, retryBackoff: FAST });
        return { client, error: await rejectionOf(client.cancel('r')) };
      },
    ],
    [
      'a 400 {error: {code, message}} that quotes the key',
      async () => {
        const server = await startTestServer((_req, res) => sendJson(res, 400, { error: { code: 'bad_key', message: `key ${KEY} is malformed` } }));
        const client = new CloudClient({ apiKey: KEY, baseUrl: server.url });
        return { client, error: await rejectionOf(client.stop('t')) };
      },
    ],
    [
      'an HTML 502 page that echoes the Authorization header',
      async () => {
        const server = await startTestServer((req, res) =>
          sendText(res, 502, `<html><head><title>502 for ${req.headers.authorization}</title></head><body>${req.headers.authorization}</body></html>`, 'text/html'),
        );
        const client = new AgentClient({ apiKey: KEY, baseUrl: server.url, retries: 0 });
        return { client, error: await rejectionOf(client.getTask('r')) };
      },
    ],
    [
      'a plain-text 503 that echoes the key',
      async () => {
        const server = await startTestServer((_req, res) => sendText(res, 503, `no capacity for ${KEY}`, 'text/plain'));
        const client = new AgentClient({ apiKey: KEY, baseUrl: server.url, retries: 0 });
        return { client, error: await rejectionOf(client.getTask('r')) };
      },
    ],
    [
      'an HTML 200 page that echoes the Authorization header',
      async () => {
        const server = await startTestServer((req, res) => sendText(res, 200, `<html><body>Signed in with ${req.headers.authorization}</body></html>`, 'text/html'));
        const client = new AgentClient({ apiKey: KEY, baseUrl: server.url, retries: 0 });
        return { client, error: await rejectionOf(client.getStatus('r')) };
      },
    ],
    [
      'truncated JSON on a 200 that echoes the key',
      async () => {
        const server = await startTestServer((_req, res) => sendText(res, 200, `{"echo":"${KEY}","status":`, 'application/json'));
        const client = new CloudClient({ apiKey: KEY, baseUrl: server.url, retries: 0 });
        return { client, error: await rejectionOf(client.getStatus('t')) };
      },
    ],
    [
      'a refused connection',
      async () => {
        const client = new AgentClient({ apiKey: KEY, baseUrl: `http://127.0.0.1:${await refusedPort()}`, retries: 0 });
        return { client, error: await rejectionOf(client.createTask({ prompt: 'x' })) };
      },
    ],
    [
      'a timeout',
      async () => {
        const sim = await simulator({ hangRate: 1 });
        const client = new AgentClient({ apiKey: KEY, baseUrl: sim.url, timeoutMs: 100, retries: 0 });
        return { client, error: await rejectionOf(client.listTasks()) };
      },
    ],
    [
      'an abort',
      async () => {
        const server = await startTestServer(() => undefined);
        const client = new CloudClient({ apiKey: KEY, baseUrl: server.url });
        const controller = new AbortController();
        const pending = client.getTask('t', { signal: controller.signal });
        await waitFor(() => server.requests.length === 1);
        controller.abort(new Error('aborted by the caller'));
        return { client, error: await rejectionOf(pending) };
      },
    ],
    [
      'a validation error',
      async () => {
        const client = new AgentClient({ apiKey: KEY, baseUrl: 'http://127.0.0.1:9' });
        return { client, error: await captureError(() => client.rename('r', '')) };
      },
    ],
  ];

  for (const [what, fail] of failures) {
    it(`keeps the key out of the message, stack, JSON, inspection and cause of ${what}, and out of the client`, async () => {
      const { error, client } = await fail();
      expect(error).toBeDefined();
      expectNoSecret(KEY, error, client);
    });
  }

  it('replaces an echoed key in an error body with a marker, keeping the rest of the body', async () => {
    const server = await startTestServer((req, res) => sendJson(res, 500, { error: `Bad credentials: ${req.headers.authorization}` }));
    const client = new AgentClient({ apiKey: KEY, baseUrl: server.url, retries: 0 });
    const error = await rejectionOf(client.getTask('r'));
    expect((error as ApiError).body).toEqual({ error: expect.stringMatching(/^Bad credentials: Bearer (?!.*SECRET)/) });
    expect((error as Error).message).toContain('Bad credentials');
  });

  it('keeps a malformed key out of the ValidationError that refuses it', () => {
    for (const apiKey of [`${KEY} `, `sk-has space-${KEY}`, `${KEY}\n`]) {
      const error = (() => {
        try {
          new AgentClient({ apiKey, baseUrl: 'http://127.0.0.1:9' });
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(ValidationError);
      expectNoSecret(KEY, error);
    }
  });

  it('does not show the key when a client is inspected, stringified or spread', () => {
    for (const client of [new AgentClient({ apiKey: KEY }), new CloudClient({ apiKey: KEY })]) {
      expect(inspect(client, { depth: 10, showHidden: true })).not.toContain(KEY);
      expect(JSON.stringify(client)).not.toContain(KEY);
      expect(JSON.stringify({ ...client })).not.toContain(KEY);
      expect(String(client)).not.toContain(KEY);
      expect(Object.getOwnPropertyNames(client).map((name) => String((client as unknown as Record<string, unknown>)[name])).join()).not.toContain(KEY);
    }
  });
});

describe('base URL rules', () => {
  it('defaults to the production hosts over https', () => {
    expect(new AgentClient({ apiKey: KEY }).baseUrl).toBe('https://agent.blackbox.ai/');
    expect(new CloudClient({ apiKey: KEY }).baseUrl).toBe('https://cloud.blackbox.ai/');
  });

  for (const baseUrl of ['ftp://agent.blackbox.ai', 'file:///etc/passwd', 'ws://127.0.0.1:1', 'javascript:alert(1)', 'localhost:3000']) {
    it(`refuses the scheme of ${baseUrl} with a TypeError naming baseUrl`, () => {
      expect(() => new AgentClient({ apiKey: KEY, baseUrl })).toThrow(TypeError);
      expect(() => new CloudClient({ apiKey: KEY, baseUrl })).toThrow(/baseUrl/);
    });
  }

  for (const baseUrl of ['', '/api/v1', 'agent.blackbox.ai', 'not a url', 'https://']) {
    it(`refuses ${JSON.stringify(baseUrl)}, which is not an absolute URL, with a TypeError naming baseUrl`, () => {
      expect(() => new AgentClient({ apiKey: KEY, baseUrl })).toThrow(TypeError);
      expect(() => new AgentClient({ apiKey: KEY, baseUrl })).toThrow(/baseUrl/);
    });
  }

  for (const baseUrl of ['http://agent.blackbox.ai', 'http://10.0.0.5:8080', 'http://localhost.example.com', 'http://127.0.0.1.attacker.example', 'http://127.attacker.example', 'http://[::2]:80']) {
    it(`refuses http: to the non-loopback host of ${baseUrl} unless allowInsecureHttp is set`, () => {
      let error: unknown;
      try {
        new AgentClient({ apiKey: KEY, baseUrl });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toMatch(/baseUrl/);
      expect(new AgentClient({ apiKey: KEY, baseUrl, allowInsecureHttp: true }).baseUrl).toBe(`${new URL(baseUrl).href.replace(/\/$/, '')}/`);
    });
  }

  for (const baseUrl of ['http://127.0.0.1:8080', 'http://localhost:8080', 'http://[::1]:8080', 'http://127.1.2.3', 'https://agent.example.com/v2']) {
    it(`accepts ${baseUrl}`, () => {
      expect(() => new CloudClient({ apiKey: KEY, baseUrl })).not.toThrow();
    });
  }

  it('refuses credentials in the base URL', () => {
    expect(() => new AgentClient({ apiKey: KEY, baseUrl: 'https://user:pass@agent.blackbox.ai' })).toThrow(/baseUrl/);
  });

  it('keeps a path prefix of the base URL and drops its query and fragment', async () => {
    const server = await startTestServer((_req, res) => sendJson(res, 200, { ok: true }));
    for (const suffix of ['/proxy/blackbox', '/proxy/blackbox/', '/proxy/blackbox?x=1#frag']) {
      const agent = new AgentClient({ apiKey: KEY, baseUrl: `${server.url}${suffix}` });
      expect(agent.baseUrl).toBe(`${server.url}/proxy/blackbox/`);
      await agent.getStatus('r');
    }
    expect(server.requests.map((r) => r.url)).toEqual(Array(3).fill('/proxy/blackbox/api/v1/tasks/r/status'));
  });
});

describe('options', () => {
  const outOfRange: [string, unknown[]][] = [
    ['timeoutMs', [0, -1, Number.NaN, Number.POSITIVE_INFINITY, '1000']],
    ['retries', [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '2']],
    ['maxRetryAfterMs', [0, -5, Number.NaN, Number.POSITIVE_INFINITY]],
    ['maxResponseBytes', [0, -1, Number.NaN]],
  ];
  for (const [name, values] of outOfRange) {
    it(`refuses ${name} out of range with a RangeError naming it`, () => {
      for (const value of values) {
        let error: unknown;
        try {
          new AgentClient({ apiKey: KEY, [name]: value });
        } catch (e) {
          error = e;
        }
        expect(error, `${name}: ${String(value)}`).toBeInstanceOf(RangeError);
        expect((error as Error).message).toContain(name);
      }
    });
  }

  it('refuses a retryBackoff out of range with a RangeError naming the field', () => {
    expect(() => new AgentClient({ apiKey: KEY, retryBackoff: { factor: 0.5 } })).toThrow(/retryBackoff\.factor/);
    expect(() => new AgentClient({ apiKey: KEY, retryBackoff: { jitter: 2 } })).toThrow(RangeError);
    expect(() => new AgentClient({ apiKey: KEY, retryBackoff: { initialMs: 10, maxMs: 5 } })).toThrow(/retryBackoff\.maxMs/);
  });

  it('never turns a timeoutMs beyond the largest timer delay into an instant timeout', async () => {
    const sim = await simulator();
    const { runId } = sim.createAgentRun();
    let agent: AgentClient;
    try {
      agent = new AgentClient({ apiKey: sim.agentKey, baseUrl: sim.url, timeoutMs: 2 ** 31, retries: 0 });
    } catch (error) {
      // Refusing it is fine too…
      expect(error).toBeInstanceOf(RangeError);
      expect((error as Error).message).toContain('timeoutMs');
      return;
    }
    // …but accepting it and then timing out every request at once is not.
    expect((await agent.getStatus(runId)).runId).toBe(runId);
  });

  it('refuses a fetch that is not a function and options that are not an object', () => {
    expect(() => new AgentClient({ apiKey: KEY, fetch: 'fetch' as never })).toThrow(TypeError);
    expect(() => new CloudClient(null as never)).toThrow(TypeError);
  });

  it('sends requests through the fetch it is given', async () => {
    const sim = await simulator();
    const seen: string[] = [];
    const agent = new AgentClient({
      apiKey: sim.agentKey,
      baseUrl: sim.url,
      fetch: (input, init) => {
        seen.push(input instanceof Request ? `${input.method} ${new URL(input.url).pathname}` : String(input));
        return fetch(input, init);
      },
    });
    await agent.listTasks();
    expect(seen).toEqual(['GET /api/v1/tasks']);
  });

  describe('the API key from the environment', () => {
    let restore: () => void;
    beforeEach(() => {
      restore = clearEnv('BLACKBOX_API_KEY', 'BLACKBOX_CLOUD_API_KEY');
    });
    afterEach(() => restore());

    it('reads BLACKBOX_API_KEY for the agent and BLACKBOX_CLOUD_API_KEY for the cloud', async () => {
      const sim = await simulator();
      process.env['BLACKBOX_API_KEY'] = sim.agentKey;
      process.env['BLACKBOX_CLOUD_API_KEY'] = sim.cloudKey;
      const agent = new AgentClient({ baseUrl: sim.url });
      const cloud = new CloudClient({ baseUrl: sim.url });
      expect((await agent.listTasks()).tasks).toEqual([]);
      expect((await cloud.listTasks()).tasks).toEqual([]);
      expect(sim.ledger.byStatusCode.get(200)).toBe(2);
    });

    it('prefers an explicit apiKey over the environment', async () => {
      const sim = await simulator();
      process.env['BLACKBOX_API_KEY'] = 'sk-from-env-wrong';
      await expect(new AgentClient({ apiKey: sim.agentKey, baseUrl: sim.url }).listTasks()).resolves.toMatchObject({ page: 1 });
    });

    it('refuses a missing key with a ValidationError naming the environment variable', () => {
      expect(() => new AgentClient()).toThrow(ValidationError);
      expect(() => new AgentClient()).toThrow(/BLACKBOX_API_KEY/);
      expect(() => new CloudClient({})).toThrow(/BLACKBOX_CLOUD_API_KEY/);
      process.env['BLACKBOX_API_KEY'] = '';
      expect(() => new AgentClient()).toThrow(/BLACKBOX_API_KEY/);
      expect(() => new AgentClient({ apiKey: '' })).toThrow(ValidationError);
    });

    it('does not take the key of the other API', () => {
      process.env['BLACKBOX_API_KEY'] = 'sk-agent-only';
      expect(() => new CloudClient()).toThrow(/BLACKBOX_CLOUD_API_KEY/);
      delete process.env['BLACKBOX_API_KEY'];
      process.env['BLACKBOX_CLOUD_API_KEY'] = 'bb_cloud_only';
      expect(() => new AgentClient()).toThrow(/BLACKBOX_API_KEY/);
    });
  });
});
