/**
 * The request policy as the manager applies it, against the simulator over loopback: attempts hold
 * concurrency slots, waits do not; shared signals warn nobody.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentClient, TaskManager, type TaskRef } from '../src/index.js';
import { createSimulator, type Simulator } from '../src/simulator/index.js';

let sim: Simulator;
let manager: TaskManager | undefined;

beforeEach(async () => {
  sim = await createSimulator({ seed: 5, queuedMs: 20, defaultDurationMs: Number.POSITIVE_INFINITY });
});

afterEach(async () => {
  await manager?.close();
  manager = undefined;
  await sim.close();
});

const agent = (id: string): TaskRef => ({ kind: 'agent', id });

interface Sent {
  readonly method: string;
  readonly path: string;
  readonly answer: number;
}

/** A fetch that answers the first PATCH of `throttledRun` with a 429 of its own, and logs what went to the server. */
function throttlingFetch(throttledRun: () => string, sent: Sent[]): typeof fetch {
  let throttled = false;
  return async (input, init) => {
    // ky hands over a Request; it is sent as it came (see test/chaos.test.ts for why not a new one).
    const { method, url } = input as Request;
    const path = new URL(url).pathname;
    if (!throttled && method === 'PATCH' && path.endsWith(throttledRun())) {
      throttled = true;
      sent.push({ method, path, answer: 429 });
      return new Response('{"error":"Too many requests"}', { status: 429, headers: { 'retry-after': '1', 'content-type': 'application/json' } });
    }
    const response = await fetch(input, init);
    sent.push({ method, path, answer: response.status });
    return response;
  };
}

describe('the manager limits attempts, not calls', () => {
  it('lets another task’s deadline cancel through while a cancel waits out a Retry-After, even at concurrency 1', async () => {
    const [a, b] = [sim.createAgentRun().runId, sim.createAgentRun().runId];
    const sent: Sent[] = [];
    const client = new AgentClient({ apiKey: sim.agentKey, baseUrl: sim.url, fetch: throttlingFetch(() => a, sent), retryBackoff: { initialMs: 10 } });
    manager = new TaskManager({ agent: client, concurrency: 1, poll: { initialMs: 50, maxMs: 50, jitter: 0 } });
    const first = manager.track(agent(a), { timeoutMs: 100 });
    const second = manager.track(agent(b), { timeoutMs: 300 });
    const results = await Promise.all([first.done, second.done]);
    expect(results.map((r) => r.outcome)).toEqual(['timed_out', 'timed_out']);
    const patches = sent.filter((s) => s.method === 'PATCH').map((s) => `${s.path.endsWith(a) ? 'a' : 'b'} ${s.answer}`);
    // a's cancel is told to wait a second; b's deadline comes 200 ms later and its cancel goes out
    // during that wait instead of queueing behind it.
    expect(patches).toEqual(['a 429', 'b 200', 'a 200']);
  });
});

describe('one signal shared by many tasks and requests', () => {
  it('raises no MaxListenersExceededWarning', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning);
    process.on('warning', onWarning);
    try {
      manager = new TaskManager({
        agent: new AgentClient({ apiKey: sim.agentKey, baseUrl: sim.url }),
        poll: { initialMs: 20, maxMs: 50 },
      });
      const shared = new AbortController();
      const tracked = Array.from({ length: 30 }, () => manager!.track(agent(sim.createAgentRun().runId), { signal: shared.signal }));
      const untracked = Array.from({ length: 30 }, () => agent(sim.createAgentRun().runId));
      const bulk = await manager.cancelMany(untracked);
      expect(bulk.counts).toEqual({ cancelled: 30, alreadyDone: 0, failed: 0 });
      shared.abort();
      const results = await Promise.all(tracked.map((handle) => handle.done));
      expect(results.every((r) => r.outcome === 'cancelled')).toBe(true);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
