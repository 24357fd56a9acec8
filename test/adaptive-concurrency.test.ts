/**
 * Adaptive concurrency (SPEC §8): 429 answers lower the limit on requests in flight, successes raise it
 * again step by step, between 1 and `concurrency`; `stats().concurrency` is the limit in force.
 */
import { DataPointType, MeterProvider, MetricReader, type DataPoint } from '@opentelemetry/sdk-metrics';
import { metrics } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { AgentClient, RateLimitError, TaskManager, type NormalizedStatus, type TaskRef } from '../src/index.js';
import { createSimulator } from '../src/simulator/index.js';
import { fakeClock, ScriptedBackend } from './helpers/fake-backend.js';

const CONCURRENCY = 16;

function setup(options: { adaptiveConcurrency?: boolean; tasks?: number } = {}) {
  const { clock, fake } = fakeClock();
  const backend = new ScriptedBackend(fake);
  const manager = new TaskManager({
    backends: { job: backend },
    clock,
    concurrency: CONCURRENCY,
    poll: { initialMs: 100, maxMs: 100, factor: 1, jitter: 0 },
    ...(options.adaptiveConcurrency === undefined ? {} : { adaptiveConcurrency: options.adaptiveConcurrency }),
  });
  // Polls answered 429 are expected here; listening keeps them out of the process warnings.
  manager.on('error', () => {});
  const ref = (id: string): TaskRef => ({ kind: 'job', id });
  for (let i = 0; i < (options.tasks ?? 40); i++) {
    backend.add(`t${i}`, 3_600_000);
    manager.track(ref(`t${i}`));
  }
  /** Runs the fake clock until every scripted 429 has been answered. */
  const drain = async (): Promise<void> => {
    while (backend.failures.length > 0) await fake.tickAsync(1);
  };
  /** The limit, read every millisecond for `ms` of fake time. */
  const watch = async (ms: number): Promise<number[]> => {
    const seen: number[] = [];
    for (let t = 0; t < ms; t++) {
      await fake.tickAsync(1);
      seen.push(manager.stats().concurrency);
    }
    return seen;
  };
  return { fake, backend, manager, ref, watch, drain };
}

const rateLimited = () => new RateLimitError(429, '429', { body: {}, method: 'GET', path: '/x', retryAfterMs: 10 });

/** Lets every pending promise callback run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

function throttle(backend: ScriptedBackend, count: number): void {
  for (let i = 0; i < count; i++) backend.failures.push({ op: 'status', error: rateLimited() });
}

/** The distinct values of `seen`, in order: the steps the limit took. */
function steps(seen: readonly number[]): number[] {
  return seen.filter((value, i) => i === 0 || value !== seen[i - 1]);
}

describe('adaptive concurrency', () => {
  it('starts at `concurrency` and reports it in stats()', () => {
    const { manager } = setup({ tasks: 0 });
    expect(manager.stats()).toEqual({ tracked: 0, timersArmed: 0, requests: 0, concurrency: CONCURRENCY });
    manager.close();
  });

  it('lowers the limit by a quarter on a run of 429s', async () => {
    const { fake, backend, manager } = setup();
    await fake.tickAsync(5);
    // Three of the 16 polls in flight are answered 429, one after the other: a quarter off the limit.
    throttle(backend, 3);
    await fake.tickAsync(10);
    expect(manager.stats().concurrency).toBe(12);
    manager.close();
  });

  it('takes a 429 amid successes for a blip, unless it comes at a limit where a run of 429s came before', async () => {
    const { fake, backend, manager, watch } = setup();
    await fake.tickAsync(5);
    // Each lone 429: the next answer is a success.
    for (let i = 0; i < 5; i++) {
      backend.failures.push({ op: 'status', error: rateLimited() });
      await fake.tickAsync(100);
    }
    expect(manager.stats().concurrency).toBe(CONCURRENCY);
    // Two in a row are not yet a run either.
    throttle(backend, 2);
    await fake.tickAsync(100);
    expect(manager.stats().concurrency).toBe(CONCURRENCY);
    throttle(backend, 3);
    await fake.tickAsync(100);
    expect(manager.stats().concurrency).toBe(12);
    // Back up at 16, where the 429s came: one more is enough to step back.
    const seen = await watch(10_000);
    expect(seen.at(-1)).toBe(CONCURRENCY);
    backend.failures.push({ op: 'status', error: rateLimited() });
    await fake.tickAsync(100);
    expect(manager.stats().concurrency).toBe(CONCURRENCY - 1);
    manager.close();
  });

  it('counts a burst of 429s from requests already in flight once', async () => {
    const { clock, fake } = fakeClock();
    const pending: { resolve: (status: NormalizedStatus) => void; reject: (error: unknown) => void }[] = [];
    const held = (): Promise<NormalizedStatus> => new Promise((resolve, reject) => pending.push({ resolve, reject }));
    const manager = new TaskManager({ backends: { job: { getStatus: held, cancel: held } }, clock, concurrency: CONCURRENCY });
    manager.on('error', () => {});
    for (let i = 0; i < 40; i++) manager.track({ kind: 'job', id: `t${i}` });
    await fake.tickAsync(0);
    expect(pending).toHaveLength(CONCURRENCY);
    // Four of the sixteen polls sent together are refused, one after the other; twelve are still on their way.
    for (const request of pending.splice(0, 4)) request.reject(rateLimited());
    await settle();
    expect(manager.stats().concurrency).toBe(12);
    // The server refuses the rest too: no new request goes out while they come back refused, and the
    // limit falls to what is still in flight, down to 1.
    const sent = pending.length;
    for (const request of pending.splice(0, 11)) request.reject(rateLimited());
    await settle();
    expect(pending.length).toBe(sent - 11);
    expect(manager.stats().concurrency).toBe(1);
    manager.close();
  });

  it('never goes below 1, however many 429s', async () => {
    const { backend, manager, watch } = setup();
    throttle(backend, 300);
    const seen = await watch(5_000);
    expect(backend.failures).toEqual([]);
    expect(Math.min(...seen)).toBe(1);
    manager.close();
  });

  it('comes back up one step at a time on successes, never above `concurrency`', async () => {
    const { backend, manager, watch, drain } = setup();
    throttle(backend, 200);
    await drain();
    const low = manager.stats().concurrency;
    expect(low).toBeLessThan(4);
    const seen = await watch(30_000);
    expect(steps([low, ...seen])).toEqual(Array.from({ length: CONCURRENCY - low + 1 }, (_, i) => low + i));
    manager.close();
  });

  it('keeps the limit fixed with adaptiveConcurrency: false', async () => {
    const { backend, manager, watch } = setup({ adaptiveConcurrency: false });
    throttle(backend, 200);
    const seen = await watch(2_000);
    expect(backend.failures).toEqual([]);
    expect(new Set(seen)).toEqual(new Set([CONCURRENCY]));
    expect(backend.peakInFlight).toBe(CONCURRENCY);
    manager.close();
  });

  it('sends no more polls at once than the lowered limit', async () => {
    const { fake, backend, manager, watch, drain } = setup();
    throttle(backend, 100);
    await drain();
    // The requests sent at the old limit have all been answered by now (they take 10 ms).
    await fake.tickAsync(20);
    backend.peakInFlight = 0;
    const seen = await watch(1_000);
    expect(Math.max(...seen)).toBeLessThan(CONCURRENCY);
    expect(backend.peakInFlight).toBeGreaterThan(0);
    expect(backend.peakInFlight).toBeLessThanOrEqual(Math.max(...seen));
    manager.close();
  });

  it('still sends queued cancels ahead of polls at the lowered limit', async () => {
    const { fake, backend, manager, ref, drain } = setup();
    throttle(backend, 100);
    await drain();
    expect(manager.stats().concurrency).toBeLessThan(4);
    const from = backend.calls.length;
    const cancelling = manager.cancelMany([ref('t1'), ref('t2'), ref('t3')]);
    await fake.tickAsync(100);
    const ops = backend.calls.slice(from).map((call) => call.op);
    // At most one poll per slot was already on its way: after those, the three cancels come first.
    const firstCancel = ops.indexOf('cancel');
    expect(firstCancel).toBeLessThanOrEqual(manager.stats().concurrency);
    expect(ops.slice(firstCancel, firstCancel + 3)).toEqual(['cancel', 'cancel', 'cancel']);
    expect((await cancelling).counts).toEqual({ cancelled: 3, alreadyDone: 0, failed: 0 });
    manager.close();
  });

  it('reports the limit in force in the taskguard.concurrency.limit gauge', async () => {
    class Reader extends MetricReader {
      protected override async onForceFlush(): Promise<void> {}
      protected override async onShutdown(): Promise<void> {}
    }
    const reader = new Reader();
    const provider = new MeterProvider({ readers: [reader] });
    metrics.setGlobalMeterProvider(provider);
    try {
      const { fake, backend, manager } = setup();
      await fake.tickAsync(5);
      throttle(backend, 3);
      await fake.tickAsync(10);
      const { resourceMetrics } = await reader.collect();
      const gauge = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics).find((metric) => metric.descriptor.name === 'taskguard.concurrency.limit');
      expect(gauge?.dataPointType).toBe(DataPointType.GAUGE);
      expect((gauge!.dataPoints as DataPoint<number>[]).map((point) => point.value)).toEqual([12]);
      manager.close();
    } finally {
      metrics.disable();
      await provider.shutdown();
    }
  });

  it('throws a TypeError naming the option when it is not a boolean', () => {
    expect(() => new TaskManager({ adaptiveConcurrency: 'yes' as unknown as boolean })).toThrow(TypeError);
    expect(() => new TaskManager({ adaptiveConcurrency: 1 as unknown as boolean })).toThrow(/adaptiveConcurrency/);
  });
});

describe('adaptive concurrency against the simulator’s rate limit', () => {
  /** Cancels `n` runs the manager does not track, through a token bucket; returns the 429s the server sent. */
  async function bulkCancel(adaptiveConcurrency: boolean, n: number): Promise<{ rateLimited: number; failed: number }> {
    const sim = await createSimulator({ seed: 5, faults: { latencyMs: 20 } });
    try {
      const ids = Array.from({ length: n }, () => sim.createAgentRun({ durationMs: Number.POSITIVE_INFINITY }).runId);
      // Short waits keep the test quick: the simulator's Retry-After is at least a second.
      const agent = new AgentClient({ apiKey: sim.agentKey, baseUrl: sim.url, retries: 20, maxRetryAfterMs: 200, retryBackoff: { initialMs: 50, maxMs: 200 } });
      const manager = new TaskManager({ agent, concurrency: CONCURRENCY, adaptiveConcurrency });
      sim.setFaults({ rateLimit: { requestsPerSecond: 50, burst: 5 } });
      const result = await manager.cancelMany(ids.map((id) => ({ kind: 'agent', id })));
      await manager.close();
      return { rateLimited: sim.ledger.rateLimited, failed: result.counts.failed };
    } finally {
      await sim.close();
    }
  }

  it('gets fewer 429s in a bulk cancel than with a fixed limit', async () => {
    const adaptive = await bulkCancel(true, 60);
    const fixed = await bulkCancel(false, 60);
    expect(adaptive.failed).toBe(0);
    // With a fixed limit every one of the 60 cancels meets the empty bucket at once, since a 429 frees
    // its slot at once; the adaptive limit stops sending after the first refusals.
    expect(fixed.rateLimited).toBeGreaterThanOrEqual(60 - 5);
    expect(adaptive.rateLimited).toBeLessThan(fixed.rateLimited);
  }, 30_000);
});
